import { jobType } from "../engine.ts";
import type { JobInfo } from "../job.ts";

export interface VersionResult {
  Platform: { Name: string };
  Components: { Name: string; Version: string; Details: Record<string, string> }[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
}

export const PingJob = jobType<void, void>("ping");
export const VersionJob = jobType<void, VersionResult>("version");
export const InfoJob = jobType<void, Record<string, unknown>>("info");
export const JobsJob = jobType<{ all: boolean }, JobInfo[]>("jobs");
