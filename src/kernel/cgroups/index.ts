export type { CgroupManager, CgroupStats, Resources } from "./types.ts";
export { CgroupV1 } from "./v1.ts";
export { CgroupV2, sharesToWeight } from "./v2.ts";
export { detectCgroupVersion, newCgroupManager } from "./detect.ts";
