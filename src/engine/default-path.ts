// Docker's PATH for a container (or build step, or exec) whose environment has none
// (moby's oci.DefaultPathEnv for Linux).
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const DEFAULT_PATH_ENV = `PATH=${DEFAULT_PATH}`;
