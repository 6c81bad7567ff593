// POST /containers/{id}/exec (types.ExecConfig) and POST /exec/{id}/start (types.ExecStartCheck).
import { array, bool, rule, string, struct, topLevel, tuple, uint64, type Out } from "./go-json.ts";

const strings = array(string, "[]string");

const execConfig = struct("types.ExecConfig", "ExecConfig", {
  User: string,
  Privileged: bool,
  Tty: bool,
  ConsoleSize: tuple(uint64, "[2]uint", 2),
  AttachStdin: bool,
  AttachStderr: bool,
  AttachStdout: bool,
  Detach: bool,
  DetachKeys: string,
  Env: strings,
  WorkingDir: string,
  Cmd: strings,
});

export const ExecCreateBody = topLevel(rule(execConfig, (e) => (e.Cmd?.length ? undefined : "No exec command specified")));
export type ExecCreateBody = Out<typeof execConfig>;

const execStart = struct("types.ExecStartCheck", "ExecStartCheck", { Detach: bool, Tty: bool, ConsoleSize: tuple(uint64, "[2]uint", 2) });
export const ExecStartBody = topLevel(execStart);
export type ExecStartBody = Out<typeof execStart>;
