/*
 * What every embedded C helper (embedded-c.ts) gets before its own text: the
 * two libc entry points they may call and the Linux ABI constants they share.
 * No #include on purpose: TinyCC (bun:ffi cc) compiles the helpers at run
 * time on hosts without libc headers. These values are the same on every
 * architecture Linux and ctr support (asm-generic); syscall numbers are not,
 * and come from the generated table (syscallNumbers).
 */
long syscall(long number, ...);
int *__errno_location(void);

#define ENOENT 2
#define EACCES 13
#define ENOTDIR 20
#define PATH_MAX 4096
#define O_RDWR 2L
#define AT_FDCWD (-100L)
#define F_SETFD 2L

#define SIGCHLD 17L
#define SIG_SETMASK 2L

#define CLONE_VM 0x00000100L
#define CLONE_VFORK 0x00004000L
#define CLONE_NEWNS 0x00020000L
#define CLONE_NEWUSER 0x10000000L
#define CLONE_NEWPID 0x20000000L
#define CLOSE_RANGE_CLOEXEC 4L

#define PR_SET_SECCOMP 22L
#define PR_CAPBSET_DROP 24L
#define PR_SET_NO_NEW_PRIVS 38L
#define PR_CAP_AMBIENT 47L
#define PR_CAP_AMBIENT_CLEAR_ALL 4L
#define SECCOMP_MODE_FILTER 2L
#define TIOCSCTTY 0x540EL
