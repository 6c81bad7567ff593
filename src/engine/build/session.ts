// What every stage of one build shares: the deps of the builder, the
// options, the parsed Dockerfile, the context on disk, the output, and the
// stages' results (a promise each, so a stage waits only for those it names).
import type { ImageRecord } from "../../store/image-store.ts";
import type { BuildCacheStore } from "../../store/build-cache.ts";
import type { Credentials } from "../distribution/credentials.ts";
import type { ContainerService } from "../containers/service.ts";
import type { BuildContext } from "./context.ts";
import type { StepImage } from "./image.ts";
import type { BuildOptions } from "./options.ts";
import type { BuildMessage, BuildOutput } from "./output.ts";
import type { Dockerfile } from "./parse.ts";
import type { RootfsDeps } from "./rootfs.ts";

export interface BuildDeps extends RootfsDeps {
  findImage(ref: string): ImageRecord | null;
  containers: ContainerService;
  cache: BuildCacheStore;
  /** <root>/buildcache: RUN --mount=type=cache directories. */
  cacheMountsDir: string;
  /** Pulls through the engine's pull job (so `ctr jobs` shows it); messages go to the build stream. */
  pull(ref: string, auth: Credentials | null, onMessage: (m: BuildMessage) => void, platform?: string): Promise<ImageRecord>;
}

export interface Session {
  deps: BuildDeps;
  opts: BuildOptions;
  df: Dockerfile;
  ctx: BuildContext;
  /** tmp/build-<id>: the context dir's sibling for secrets and copies. */
  scratch: string;
  signal: AbortSignal;
  output: BuildOutput;
  results: Map<number, Promise<StepImage>>;
  /** Global ARGs after the build args (usable in FROM lines; a stage's bare ARG re-imports them). */
  globalArgs: Map<string, string | undefined>;
  usedArgs: Set<string>;
  /** The step number each stage's FROM has, and the total. */
  firstStep: Map<number, number>;
  totalSteps: number;
  /** Instructions appended to the target stage (the `labels` option). */
  extra: Map<number, import("./parse.ts").Instruction[]>;
  progress(text: string): void;
  /** Image ids the cache-from images descend from (eligible cache hits besides the local cache). */
  cacheFromIds: Set<string>;
}
