/*
 * `ctr exec` without a Bun process (see exec-spawn.ts): the daemon clones the
 * command's process itself, straight into the container's pid namespace, and
 * the child makes itself the container's process with raw system calls only,
 * ending in execve().
 *
 * The clone is CLONE_VM|CLONE_VFORK, as posix_spawn's: the child runs on its
 * own stack inside the daemon's address space (no page tables of the big
 * daemon are copied) while the thread that cloned it waits until it has
 * exec'd or died. That thread is a short-lived one of ours, not the event
 * loop's: an execve that blocks (a binary on a stuck NFS or FUSE mount, a
 * cgroup being frozen) holds up that exec only. The child never touches
 * memory anyone else uses: no malloc, no locks, no glibc wrappers that keep
 * state (setxid broadcasts, the pid cache) — only syscall(), whose one side
 * effect, errno, lands in the suspended thread's TLS. Signals are blocked
 * around all of it and reset to their defaults in the child, so none of
 * Bun's handlers ever run there.
 *
 * compileEmbedded puts linux-abi.h (declarations, constants) before this
 * text; the syscall numbers come from the generated table.
 */
int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);
int pthread_create(unsigned long *thread, const void *attr, void *(*fn)(void *), void *arg);
int pthread_detach(unsigned long thread);

enum {
  NR_SETNS, NR_WRITE, NR_EXIT_GROUP, NR_RT_SIGPROCMASK, NR_RT_SIGACTION, NR_CLOSE_RANGE, NR_DUP3, NR_FCNTL,
  NR_UMASK, NR_CHDIR, NR_MKDIRAT, NR_PRLIMIT64, NR_PRCTL, NR_SETGROUPS, NR_SETRESGID, NR_SETRESUID, NR_CAPSET,
  NR_EXECVE, NR_SETSID, NR_OPENAT, NR_IOCTL, NR_CLOSE, NR_COUNT
};

/* What ctr_exec_spawn takes, as one array of longs (indices shared with exec-spawn.ts). */
enum {
  P_NR, P_PIDNS_FD, P_RESULT_WR, P_NS_FDS, P_NS_TYPES, P_NNS, P_CGROUP_FDS, P_NCGROUPS, P_STDIN, P_STDOUT,
  P_STDERR, P_CWD, P_RLIMITS, P_NRLIMITS, P_SECCOMP, P_NNP, P_KEEP_CAPS, P_LAST_CAP, P_NGROUPS, P_GROUPS, P_UID,
  P_GID, P_CAP_HDR, P_CAP_DATA, P_CMD, P_SEARCH, P_ARGV, P_ENVP, P_USERNS_FD, P_TTY, P_FAIL_STAGE, P_FAIL_ERRNO, P_COUNT
};

/* Stage numbers reported with errno in the result (exec-spawn.ts names them). */
enum {
  S_NONE, S_CGROUP, S_SETNS, S_STDIO, S_CHDIR, S_RLIMIT, S_SECCOMP, S_BOUNDING, S_SETGROUPS, S_SETRESGID,
  S_SETRESUID, S_CAPSET, S_NNP, S_EXEC, S_TTY
};

static long e(void) { return *__errno_location(); }

/* The child's failure goes into our shared memory (CLONE_VM): its parent thread reads it once released. */
static void fail(const long *p, int stage, long err) {
  const long *nr = (const long *)p[P_NR];
  ((long *)p)[P_FAIL_STAGE] = stage;
  ((long *)p)[P_FAIL_ERRNO] = err;
  syscall(nr[NR_EXIT_GROUP], 127L);
}

/* fd onto `target`, kept across execve (dup3 clears CLOEXEC; a fd already there keeps its flag, so clear it). */
static int onto(const long *nr, long fd, long target) {
  if (fd == target) return (int)syscall(nr[NR_FCNTL], fd, F_SETFD, 0L);
  return (int)syscall(nr[NR_DUP3], fd, target, 0L);
}

/* Docker makes a missing working directory (root-owned, 0755) instead of failing: mkdir -p, then chdir. */
static int chdir_or_make(const long *nr, const char *cwd) {
  if (syscall(nr[NR_CHDIR], cwd) == 0) return 0;
  if (e() != ENOENT) return -1;
  char buf[PATH_MAX];
  long n = 0;
  for (; cwd[n] && n < PATH_MAX - 1; n++) {
    buf[n] = cwd[n];
    buf[n + 1] = 0;
    if (cwd[n + 1] == '/' || cwd[n + 1] == 0) syscall(nr[NR_MKDIRAT], AT_FDCWD, buf, 0755L);
  }
  return (int)syscall(nr[NR_CHDIR], cwd);
}

/*
 * execvp's search, done as the command's user inside the container: try
 * execve on each candidate of PATH; ENOENT/ENOTDIR → the next, EACCES →
 * remembered and the next; anything else ends the search. Returns the errno
 * to report (EACCES if any candidate had it, as execvp).
 */
static long exec_search(const long *nr, const long *p) {
  const char *cmd = (const char *)p[P_CMD];
  const char *path = (const char *)p[P_SEARCH];
  char **argv = (char **)p[P_ARGV];
  char **envp = (char **)p[P_ENVP];
  if (!path) {
    syscall(nr[NR_EXECVE], cmd, argv, envp);
    return e();
  }
  long clen = 0;
  while (cmd[clen]) clen++;
  int denied = 0;
  char buf[PATH_MAX];
  for (const char *d = path;;) {
    const char *end = d;
    while (*end && *end != ':') end++;
    long dlen = end - d;
    if (dlen + clen + 2 < PATH_MAX) {
      long n = 0;
      if (dlen == 0) buf[n++] = '.';
      for (long i = 0; i < dlen; i++) buf[n++] = d[i];
      buf[n++] = '/';
      for (long i = 0; i <= clen; i++) buf[n++] = cmd[i];
      syscall(nr[NR_EXECVE], buf, argv, envp);
      long err = e();
      if (err == EACCES) denied = 1;
      else if (err != ENOENT && err != ENOTDIR) return err;
    }
    if (!*end) break;
    d = end + 1;
  }
  return denied ? EACCES : ENOENT;
}

static int child(void *arg) {
  const long *p = (const long *)arg;
  const long *nr = (const long *)p[P_NR];
  /* Bun's handlers are not ours to run: everything back to SIG_DFL (SIG_IGN too, as posix_spawn's SETSIGDEF). */
  long dfl[4] = {0, 0, 0, 0};
  for (long s = 1; s <= 64; s++) syscall(nr[NR_RT_SIGACTION], s, dfl, 0L, 8L);
  /* Every inherited daemon fd goes at execve; what we still need is close-on-exec already. */
  syscall(nr[NR_CLOSE_RANGE], 3L, ~0UL, CLOSE_RANGE_CLOEXEC);
  /* The cgroup first, while cgroup.procs is writable from the daemon's cgroup namespace. */
  const long *cg = (const long *)p[P_CGROUP_FDS];
  for (long i = 0; i < p[P_NCGROUPS]; i++)
    if (syscall(nr[NR_WRITE], cg[i], "0", 1L) != 1) fail(p, S_CGROUP, e());
  const long *fds = (const long *)p[P_NS_FDS];
  const long *types = (const long *)p[P_NS_TYPES];
  for (long i = 0; i < p[P_NNS]; i++)
    /* Joining one we are already in is EINVAL for some types (host net): only the mount namespace must work. */
    if (syscall(nr[NR_SETNS], fds[i], types[i]) < 0 && types[i] == CLONE_NEWNS) fail(p, S_SETNS, e());
  /* A terminal (its slave, in the container's devpts): opened as host root (the daemon opened the
     master, so the slave is host root's), our controlling terminal in a session of our own. */
  if (p[P_TTY]) {
    long fd = syscall(nr[NR_OPENAT], AT_FDCWD, p[P_TTY], O_RDWR);
    if (fd < 0 || syscall(nr[NR_SETSID]) < 0 || syscall(nr[NR_IOCTL], fd, TIOCSCTTY, 0L) < 0) fail(p, S_TTY, e());
    if (onto(nr, fd, 0L) < 0 || onto(nr, fd, 1L) < 0 || onto(nr, fd, 2L) < 0) fail(p, S_STDIO, e());
    if (fd > 2) syscall(nr[NR_CLOSE], fd);
  }
  /* A remapped container's user namespace last, as host root until here (the kernel allows it: we are
     single-threaded, our fs is our own); from now on we are its root, with every capability in it. */
  if (p[P_USERNS_FD] >= 0 && syscall(nr[NR_SETNS], p[P_USERNS_FD], CLONE_NEWUSER) < 0) fail(p, S_SETNS, e());
  if (!p[P_TTY] && (onto(nr, p[P_STDIN], 0L) < 0 || onto(nr, p[P_STDOUT], 1L) < 0 || onto(nr, p[P_STDERR], 2L) < 0)) fail(p, S_STDIO, e());
  syscall(nr[NR_UMASK], 022L);
  if (chdir_or_make(nr, (const char *)p[P_CWD]) < 0) fail(p, S_CHDIR, e());
  /* runc's order (libcontainer/setns_init_linux.go): rlimits while privileged, seccomp before the
     identity switch unless no_new_privs, bounding set, groups/gid/uid, capset, no_new_privs, seccomp. */
  const long *rl = (const long *)p[P_RLIMITS];
  for (long i = 0; i < p[P_NRLIMITS]; i++)
    if (syscall(nr[NR_PRLIMIT64], 0L, rl[3 * i], &rl[3 * i + 1], 0L) < 0) fail(p, S_RLIMIT, e());
  if (p[P_SECCOMP] && !p[P_NNP] && syscall(nr[NR_PRCTL], PR_SET_SECCOMP, SECCOMP_MODE_FILTER, p[P_SECCOMP], 0L, 0L) < 0) fail(p, S_SECCOMP, e());
  unsigned long keep = (unsigned long)p[P_KEEP_CAPS];
  for (long c = 0; c <= p[P_LAST_CAP]; c++)
    if (!((keep >> c) & 1UL) && syscall(nr[NR_PRCTL], PR_CAPBSET_DROP, c, 0L, 0L, 0L) < 0) fail(p, S_BOUNDING, e());
  syscall(nr[NR_PRCTL], PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L);
  if (syscall(nr[NR_SETGROUPS], p[P_NGROUPS], p[P_GROUPS]) < 0) fail(p, S_SETGROUPS, e());
  if (syscall(nr[NR_SETRESGID], p[P_GID], p[P_GID], p[P_GID]) < 0) fail(p, S_SETRESGID, e());
  if (syscall(nr[NR_SETRESUID], p[P_UID], p[P_UID], p[P_UID]) < 0) fail(p, S_SETRESUID, e());
  if (syscall(nr[NR_CAPSET], p[P_CAP_HDR], p[P_CAP_DATA]) < 0) fail(p, S_CAPSET, e());
  if (p[P_NNP]) {
    if (syscall(nr[NR_PRCTL], PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) fail(p, S_NNP, e());
    if (p[P_SECCOMP] && syscall(nr[NR_PRCTL], PR_SET_SECCOMP, SECCOMP_MODE_FILTER, p[P_SECCOMP], 0L, 0L) < 0) fail(p, S_SECCOMP, e());
  }
  unsigned long none = 0;
  syscall(nr[NR_RT_SIGPROCMASK], SIG_SETMASK, &none, 0L, 8L);
  fail(p, S_EXEC, exec_search(nr, p));
  return 0;
}

/*
 * The cloning thread: joins the pid namespace (setns(CLONE_NEWPID) changes
 * where this thread's children go, pid_namespaces(7), and nothing else of
 * the process), clones, and once the child has exec'd or died writes
 * { pid or -errno, stage, errno } (3 longs) on the result pipe, which the
 * event loop reads. All signals are blocked here (inherited from the caller).
 */
static void *spawner(void *arg) {
  long *p = (long *)arg;
  const long *nr = (const long *)p[P_NR];
  /* The child's stack, in our own frame: we are suspended while it runs. */
  char stack[65536];
  long out[3] = {0, 0, 0};
  if (p[P_PIDNS_FD] >= 0 && syscall(nr[NR_SETNS], p[P_PIDNS_FD], CLONE_NEWPID) < 0) out[0] = -e();
  if (out[0] == 0) {
    char *top = (char *)(((unsigned long)(stack + sizeof(stack))) & ~15UL);
    long pid = clone(child, top, CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)p);
    out[0] = pid < 0 ? -e() : pid;
    out[1] = p[P_FAIL_STAGE];
    out[2] = p[P_FAIL_ERRNO];
  }
  syscall(nr[NR_WRITE], p[P_RESULT_WR], out, (long)sizeof(out));
  return 0;
}

/*
 * Starts the cloning thread (see the top) and returns 0, or -errno when no
 * thread could be made. The result comes on P_RESULT_WR.
 */
int ctr_exec_spawn(long *p) {
  const long *nr = (const long *)p[P_NR];
  unsigned long all = ~0UL, old = 0, t = 0;
  syscall(nr[NR_RT_SIGPROCMASK], SIG_SETMASK, &all, &old, 8L);
  int rc = pthread_create(&t, 0, spawner, p);
  if (rc == 0) pthread_detach(t);
  syscall(nr[NR_RT_SIGPROCMASK], SIG_SETMASK, &old, 0L, 8L);
  return -rc;
}
