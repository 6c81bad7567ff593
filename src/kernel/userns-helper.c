/*
 * ctr's single-threaded step into a user namespace (see userns.ts).
 *
 * The kernel refuses unshare(CLONE_NEWUSER) and setns() into a user namespace
 * to a multi-threaded process (unshare(2), setns(2) EINVAL), and `ctr init` is
 * Bun (several threads before any JavaScript runs). A clone()d child is a new
 * process with one thread, so these two functions clone and, in the child, run
 * only raw system calls until execve() or exit: no libc state (locks, malloc,
 * the thread list glibc's setxid broadcast walks) is touched there.
 *
 * compileEmbedded puts linux-abi.h (declarations, constants) before this
 * text; the syscall numbers of this machine come from the caller (the
 * generated table), so the file is the same on every arch.
 */

enum {
  NR_CLONE, NR_READ, NR_WRITE, NR_UNSHARE, NR_SETNS, NR_EXIT_GROUP, NR_PRCTL, NR_SETGROUPS, NR_SETRESGID,
  NR_SETRESUID, NR_CAPSET, NR_EXECVE, NR_SETSID, NR_IOCTL, NR_RT_SIGPROCMASK, NR_CLOSE, NR_COUNT
};

/*
 * clone() with every signal blocked, so none of Bun's handlers can run in the
 * child before it has become something else; both sides restore `old`.
 */
static long clone_quiet(const long *nr, long flags, unsigned long *old) {
  unsigned long all = ~0UL;
  syscall(nr[NR_RT_SIGPROCMASK], SIG_SETMASK, &all, old, 8L);
  /* A NULL stack: the child runs on a copy of ours, as with fork(). */
  long pid = syscall(nr[NR_CLONE], flags | SIGCHLD, 0L, 0L, 0L, 0L);
  if (pid != 0) syscall(nr[NR_RT_SIGPROCMASK], SIG_SETMASK, old, 0L, 8L);
  return pid;
}

/*
 * A process in a new user namespace that waits: the caller writes its
 * uid_map/gid_map (that needs CAP_SETUID over the parent namespace, which
 * only a process outside has), then one byte on go_rd; the child unshares
 * `nsflags` (net/uts/ipc, so they belong to the new user namespace — as
 * Docker's, whose runc makes them after the user namespace) and reports
 * 0 or errno on done_wr; it exits at the next byte or EOF (it closes its
 * copy of go_wr first, so the caller's end is the only one).
 * Returns the child's pid, or -errno.
 */
int ctr_userns_holder(const long *nr, int go_rd, int go_wr, int done_wr, long nsflags) {
  unsigned long old = 0;
  long pid = clone_quiet(nr, CLONE_NEWUSER, &old);
  if (pid < 0) return -*__errno_location();
  if (pid > 0) return (int)pid;
  char b;
  int rc = 0;
  syscall(nr[NR_CLOSE], (long)go_wr);
  if (syscall(nr[NR_READ], (long)go_rd, &b, 1L) != 1) syscall(nr[NR_EXIT_GROUP], 1L);
  if (nsflags && syscall(nr[NR_UNSHARE], nsflags) < 0) rc = *__errno_location();
  syscall(nr[NR_WRITE], (long)done_wr, &rc, 4L);
  syscall(nr[NR_READ], (long)go_rd, &b, 1L);
  syscall(nr[NR_EXIT_GROUP], 0L);
  return 0;
}

/* What ctr_spawn_in_userns takes, as one array of longs (indices shared with userns.ts). */
enum {
  P_USERNS_FD, P_ERR_WR, P_PATH, P_ARGV, P_ENVP, P_UID, P_GID, P_NGROUPS, P_GROUPS, P_KEEP_CAPS,
  P_LAST_CAP, P_NNP, P_SECCOMP, P_TTY, P_CAP_HDR, P_CAP_DATA, P_COUNT
};

/* Stage numbers reported with errno on the error pipe (userns.ts names them). */
static void fail(const long *nr, long err_wr, int stage) {
  int msg[2];
  msg[0] = stage;
  msg[1] = *__errno_location();
  syscall(nr[NR_WRITE], err_wr, msg, 8L);
  syscall(nr[NR_EXIT_GROUP], 127L);
}

/*
 * Forks a child that joins the user namespace `P_USERNS_FD` (the container's:
 * it comes out root there with every capability, cred.c set_cred_user_ns, and
 * a full bounding set), then does runc's last steps in runc's order:
 * controlling terminal, bounding set, ambient caps, seccomp (before the
 * identity switch unless no_new_privs), groups/gid/uid, capset,
 * no_new_privs (+ seccomp), execve. The error pipe is close-on-exec: EOF
 * means the command runs. Returns the child's pid or -errno.
 */
int ctr_spawn_in_userns(const long *nr, const long *p) {
  unsigned long old = 0;
  long pid = clone_quiet(nr, 0L, &old);
  if (pid < 0) return -*__errno_location();
  if (pid > 0) return (int)pid;
  long err_wr = p[P_ERR_WR];
  if (syscall(nr[NR_SETNS], p[P_USERNS_FD], CLONE_NEWUSER) < 0) fail(nr, err_wr, 1);
  if (p[P_TTY]) {
    if (syscall(nr[NR_SETSID]) < 0) fail(nr, err_wr, 2);
    if (syscall(nr[NR_IOCTL], 0L, TIOCSCTTY, 0L) < 0) fail(nr, err_wr, 2);
  }
  unsigned long keep = (unsigned long)p[P_KEEP_CAPS];
  for (long c = 0; c <= p[P_LAST_CAP]; c++)
    if (!((keep >> c) & 1UL) && syscall(nr[NR_PRCTL], PR_CAPBSET_DROP, c, 0L, 0L, 0L) < 0) fail(nr, err_wr, 3);
  syscall(nr[NR_PRCTL], PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L);
  if (p[P_SECCOMP] && !p[P_NNP] && syscall(nr[NR_PRCTL], PR_SET_SECCOMP, SECCOMP_MODE_FILTER, p[P_SECCOMP], 0L, 0L) < 0) fail(nr, err_wr, 4);
  if (syscall(nr[NR_SETGROUPS], p[P_NGROUPS], p[P_GROUPS]) < 0) fail(nr, err_wr, 5);
  if (syscall(nr[NR_SETRESGID], p[P_GID], p[P_GID], p[P_GID]) < 0) fail(nr, err_wr, 6);
  if (syscall(nr[NR_SETRESUID], p[P_UID], p[P_UID], p[P_UID]) < 0) fail(nr, err_wr, 7);
  if (syscall(nr[NR_CAPSET], p[P_CAP_HDR], p[P_CAP_DATA]) < 0) fail(nr, err_wr, 8);
  if (p[P_NNP]) {
    if (syscall(nr[NR_PRCTL], PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) fail(nr, err_wr, 9);
    if (p[P_SECCOMP] && syscall(nr[NR_PRCTL], PR_SET_SECCOMP, SECCOMP_MODE_FILTER, p[P_SECCOMP], 0L, 0L) < 0) fail(nr, err_wr, 4);
  }
  syscall(nr[NR_RT_SIGPROCMASK], SIG_SETMASK, &old, 0L, 8L);
  syscall(nr[NR_EXECVE], p[P_PATH], p[P_ARGV], p[P_ENVP]);
  fail(nr, err_wr, 10);
  return 0;
}
