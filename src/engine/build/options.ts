// What a build is asked to do: POST /build's query parameters (and `ctr
// build`'s flags), parsed at the API edge into this shape.
import type { Credentials } from "../distribution/credentials.ts";

export interface BuildOptions {
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  /** Names to tag the result with (`t`, repeatable). */
  tags: string[];
  /** `buildargs`: a null value means "declared, take the Dockerfile's default". */
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  quiet: boolean;
  /** Remove intermediate containers after a successful build (default true). */
  rm: boolean;
  /** Remove them even when the build fails. */
  forceRm: boolean;
  labels: Record<string, string>;
  /** RUN's network: bridge (Docker's default), host, none. */
  networkMode: string;
  extraHosts: string[];
  cacheFrom: string[];
  platform?: string;
  /** Secrets for RUN --mount=type=secret, by id (never stored, never in a key). */
  secrets: Record<string, Uint8Array>;
  /** Registry credentials for pulls of base images (X-Registry-Config), by registry host. */
  registryAuth: Record<string, Credentials>;
  /** Resource limits for RUN containers (memory, memswap, cpushares, cpuquota, cpuperiod, cpusetcpus, shmsize). */
  limits: Record<string, number | string>;
  /** Lines as they happen, tagged by stage, instead of in Dockerfile order (X-Ctr-Build-Progress: live). */
  live: boolean;
}

export function defaultBuildOptions(): BuildOptions {
  return {
    dockerfile: "Dockerfile",
    tags: [],
    buildArgs: {},
    noCache: false,
    pull: false,
    quiet: false,
    rm: true,
    forceRm: false,
    labels: {},
    networkMode: "bridge",
    extraHosts: [],
    cacheFrom: [],
    secrets: {},
    registryAuth: {},
    limits: {},
    live: false,
  };
}
