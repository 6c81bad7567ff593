import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
/** The Engine API version we speak; docker CLI 28 negotiates down to its max (1.50). */
export const API_VERSION = "1.51";
/** Oldest API version we accept, as dockerd. */
export const MIN_API_VERSION = "1.24";
export const GIT_COMMIT: string = process.env.CTR_GIT_COMMIT ?? "unknown";
export const BUILD_TIME: string = process.env.CTR_BUILD_TIME ?? "";
