/*
 * probe: differential credential probe for remainroot.
 *
 * Runs credential system calls in many sequences and prints every result
 * and, after each step, the complete credential state of the calling
 * thread. The output is deterministic (no pids, addresses or timings), so
 * running it as real root (in a user namespace mapping every id) and as
 * fake root under remainroot (in a single-id user namespace) must give
 * byte-identical output.
 *
 * Every scenario runs in a forked child, so it starts from the initial
 * state: uid/gid 0, no supplementary groups, full capabilities. Each output
 * line starts with "[scenario]" or "[scenario/case]"; steps print
 * "call = result [ERRNO]" and then the state (ids, groups, caps lines).
 *
 * Scenarios: apt (apt's drop and restore), drop-all / drop-euid /
 * drop-keep-suid / su (dropping and failing to regain), keepcaps /
 * securebits / nofixup, fsuid, threads (per-thread credentials, glibc's
 * broadcast, capget of another thread), exec (credentials across execve,
 * also from a non-leader thread and after vfork), setreuid /
 * setreuid-unpriv / setregid / setuid-unpriv (saved-id rules), invalid
 * and wide-args (invalid arguments, bad pointers, 64-bit id arguments),
 * suid (exec of a set-user-ID-root copy), chown / chown-owned (chown
 * family return values), capset / capset-v1, ambient, bounding,
 * caps-own-pid (capget/capset naming the caller by its pid in a pid
 * namespace), efault (pointers to PROT_NONE and read-only pages),
 * erofs (the chown family on a read-only mount), chown-after-allowed,
 * unmapped-owner (chown of a file whose owner is not mapped),
 * seccomp-nocap (loading a filter without CAP_SYS_ADMIN).
 *
 * Usage:
 *   probe [--dir DIR] [--suid PATH] [--unmapped FILE] [--only NAMES]
 *       DIR:  writable directory for the chown scenarios (default ".")
 *       PATH: a set-user-ID-root copy of this program (scenario "suid")
 *       FILE: a file owned by an id that neither run's namespace maps
 *             once it has made one mapping only its own root (scenario
 *             "unmapped-owner"), with FILE.link, a symbolic link, and
 *             FILE.dir, a sticky directory, of the same owner
 *       NAMES: run only the scenarios of these names (comma-separated)
 *   probe --after-exec TAG [ACTION]
 *       prints the state after an execve; ACTION "setuid0" then calls
 *       setuid(0) and prints the state again.
 *
 * Raw syscall(SYS_...) is used wherever per-thread kernel semantics are
 * wanted; the glibc wrappers (which broadcast to all threads and map
 * seteuid/setegid onto setresuid/setresgid) where real programs use them.
 * Every id argument of a raw call is passed as a 32-bit value, the way
 * glibc passes uid_t, except in the scenario "wide-args".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------- output ---------- */

/* Name of the running scenario; per thread so threads label their lines. */
static __thread const char *scen = "main";

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* out prints one line prefixed with the scenario name and flushes it, so
 * output is never duplicated by fork nor lost by execve or _exit. */
static void out(const char *fmt, ...)
{
	va_list ap;

	flockfile(stdout);
	printf("[%s] ", scen);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	funlockfile(stdout);
}

static const char *errname(int e)
{
	static __thread char buf[16];

	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EROFS: return "EROFS";
	case ERANGE: return "ERANGE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ELOOP: return "ELOOP";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

static void report(const char *call, long r, int e)
{
	if (r == -1)
		out("%s = -1 %s", call, errname(e));
	else
		out("%s = %ld", call, r);
}

/* DO runs a call and prints it with its result; STEP also prints the state
 * afterwards. */
#define DO(expr) do { errno = 0; long r_ = (long)(expr); report(#expr, r_, errno); } while (0)
#define STEP(expr) do { errno = 0; long r_ = (long)(expr); report(#expr, r_, errno); state(); } while (0)

/* ---------- raw per-thread system calls ---------- */

#define U(x) ((unsigned long)(uint32_t)(x))

static long sys_setuid(long u) { return syscall(SYS_setuid, U(u)); }
static long sys_setgid(long g) { return syscall(SYS_setgid, U(g)); }
static long sys_setreuid(long r, long e) { return syscall(SYS_setreuid, U(r), U(e)); }
static long sys_setregid(long r, long e) { return syscall(SYS_setregid, U(r), U(e)); }
static long sys_setresuid(long r, long e, long s) { return syscall(SYS_setresuid, U(r), U(e), U(s)); }
static long sys_setresgid(long r, long e, long s) { return syscall(SYS_setresgid, U(r), U(e), U(s)); }
static long sys_setfsuid(long u) { return syscall(SYS_setfsuid, U(u)); }
static long sys_setfsgid(long g) { return syscall(SYS_setfsgid, U(g)); }
static long sys_setgroups(long n, const gid_t *l) { return syscall(SYS_setgroups, (unsigned long)(uint32_t)n, l); }
static long sys_getgroups(long n, gid_t *l) { return syscall(SYS_getgroups, (unsigned long)(uint32_t)n, l); }
static long sys_getresuid(void *r, void *e, void *s) { return syscall(SYS_getresuid, r, e, s); }
static long sys_getresgid(void *r, void *e, void *s) { return syscall(SYS_getresgid, r, e, s); }
static long sys_prctl(long opt, unsigned long a2) { return syscall(SYS_prctl, opt, a2, 0UL, 0UL, 0UL); }
static long sys_prctl3(long opt, unsigned long a2, unsigned long a3) { return syscall(SYS_prctl, opt, a2, a3, 0UL, 0UL); }

/* Capabilities as three 64-bit masks. */
struct caps {
	uint64_t e, p, i;
};

#define BIT(c) (1ULL << (c))
static uint64_t FULL;	/* the initial (full) permitted set */
static int last_cap;	/* the highest capability number the kernel knows */

/* The file system capabilities that fsuid changes toggle. */
#define FSCAPS (BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH) | \
		BIT(CAP_FOWNER) | BIT(CAP_FSETID) | BIT(CAP_LINUX_IMMUTABLE) | \
		BIT(CAP_MAC_OVERRIDE) | BIT(CAP_MKNOD))

static long capget_ver(uint32_t ver, long pid, struct caps *c)
{
	struct __user_cap_header_struct h = { ver, (int)pid };
	struct __user_cap_data_struct d[2];
	long r;

	memset(d, 0, sizeof d);
	r = syscall(SYS_capget, &h, c ? d : NULL);
	if (r == 0 && c) {
		c->e = d[0].effective | (uint64_t)d[1].effective << 32;
		c->p = d[0].permitted | (uint64_t)d[1].permitted << 32;
		c->i = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	}
	return r;
}

static long capset_ver(uint32_t ver, long pid, uint64_t e, uint64_t p, uint64_t i)
{
	struct __user_cap_header_struct h = { ver, (int)pid };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)e, (uint32_t)p, (uint32_t)i },
		{ (uint32_t)(e >> 32), (uint32_t)(p >> 32), (uint32_t)(i >> 32) },
	};

	return syscall(SYS_capset, &h, d);
}

/* capset_v3 sets the calling thread's capabilities. */
static long capset_v3(uint64_t e, uint64_t p, uint64_t i)
{
	return capset_ver(_LINUX_CAPABILITY_VERSION_3, 0, e, p, i);
}

static struct caps cur_caps(void)
{
	struct caps c = { 0, 0, 0 };

	capget_ver(_LINUX_CAPABILITY_VERSION_3, 0, &c);
	return c;
}

/* ---------- state ---------- */

/* state prints the calling thread's credentials, using raw system calls. */
static void state(void)
{
	uint32_t r = 7, e = 7, s = 7, rg = 7, eg = 7, sg = 7;
	long ret, n;
	struct caps c = { 0, 0, 0 };
	gid_t *groups = malloc(65536 * sizeof(gid_t));
	char buf[512];
	size_t len = 0;

	ret = sys_getresuid(&r, &e, &s);
	if (ret != 0)
		out("  getresuid failed: %s", errname(errno));
	ret = sys_getresgid(&rg, &eg, &sg);
	if (ret != 0)
		out("  getresgid failed: %s", errname(errno));
	long uid = syscall(SYS_getuid), euid = syscall(SYS_geteuid);
	long gid = syscall(SYS_getgid), egid = syscall(SYS_getegid);
	long fsuid = sys_setfsuid(-1), fsgid = sys_setfsgid(-1);
	out("  ids uid=%ld euid=%ld gid=%ld egid=%ld resuid=%u/%u/%u resgid=%u/%u/%u fsuid=%ld fsgid=%ld",
	    uid, euid, gid, egid, r, e, s, rg, eg, sg, fsuid, fsgid);

	n = sys_getgroups(0, NULL);
	if (n < 0) {
		out("  getgroups failed: %s", errname(errno));
	} else {
		long m = sys_getgroups(n, groups);
		unsigned long sum = 0;

		if (m != n)
			out("  getgroups(%ld) = %ld %s", n, m, m < 0 ? errname(errno) : "");
		for (long k = 0; k < m; k++) {
			sum = sum * 31 + groups[k];
			if (k < 16)
				len += snprintf(buf + len, sizeof buf - len, "%s%u", k ? "," : "", groups[k]);
		}
		if (m > 16)
			snprintf(buf + len, sizeof buf - len, ",... hash=%lx", sum);
		else if (m <= 0)
			buf[0] = 0;
		out("  groups n=%ld [%s]", n, buf);
	}
	free(groups);

	if (capget_ver(_LINUX_CAPABILITY_VERSION_3, 0, &c) != 0)
		out("  capget failed: %s", errname(errno));
	long kc = sys_prctl(PR_GET_KEEPCAPS, 0);
	long sb = sys_prctl(PR_GET_SECUREBITS, 0);
	out("  caps eff=%011llx prm=%011llx inh=%011llx keepcaps=%ld securebits=%#lx",
	    (unsigned long long)c.e, (unsigned long long)c.p, (unsigned long long)c.i, kc, sb);
}

/* capsets prints the ambient and bounding sets, read one capability at a
 * time with prctl. */
static void capsets(void)
{
	uint64_t amb = 0, bset = 0;

	for (int c = 0; c <= last_cap; c++) {
		if (sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c) == 1)
			amb |= BIT(c);
		if (sys_prctl(PR_CAPBSET_READ, c) == 1)
			bset |= BIT(c);
	}
	out("  capsets amb=%011llx bset=%011llx", (unsigned long long)amb, (unsigned long long)bset);
}

/* XSTEP is STEP that also prints the ambient and bounding sets. */
#define XSTEP(expr) do { errno = 0; long r_ = (long)(expr); report(#expr, r_, errno); state(); capsets(); } while (0)

/* auxv prints the credential entries of the auxiliary vector. */
static void auxv(void)
{
	out("  auxv AT_UID=%lu AT_EUID=%lu AT_GID=%lu AT_EGID=%lu AT_SECURE=%lu",
	    getauxval(AT_UID), getauxval(AT_EUID), getauxval(AT_GID),
	    getauxval(AT_EGID), getauxval(AT_SECURE));
}

/* ---------- helpers ---------- */

static const char *self_exe = "/proc/self/exe";
static const char *suid_path;
static const char *work_dir = ".";

/* drop_all becomes uid/gid 1000 with no groups, as a daemon would. */
static void drop_all(void)
{
	static const gid_t none[1];

	DO(sys_setgroups(0, none));
	DO(sys_setresgid(1000, 1000, 1000));
	STEP(sys_setresuid(1000, 1000, 1000));
}

/* run_exec forks; the child runs prep, then execs path with
 * --after-exec tag [action]; the parent waits and prints the status. */
static void run_exec(const char *tag, void (*prep)(void), const char *path, const char *action)
{
	const char *saved = scen;
	int st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		out("fork: %s", errname(errno));
		return;
	}
	if (pid == 0) {
		char *argv[] = { "probe", "--after-exec", (char *)tag, (char *)action, NULL };

		scen = tag;
		if (prep)
			prep();
		out("execve(%s)", path == self_exe ? "/proc/self/exe" : "SUID_COPY");
		execv(path, argv);
		out("execve failed: %s", errname(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	scen = saved;
	if (WIFEXITED(st))
		out("%s: exit status %d", tag, WEXITSTATUS(st));
	else
		out("%s: killed by signal %d", tag, WTERMSIG(st));
}

/* ---------- scenario 1: apt's privilege drop and restore ---------- */

static void sc_apt(void)
{
	gid_t nogroup[1] = { 65534 };

	state();
	STEP(setgroups(1, nogroup));
	STEP(setegid(65534));
	STEP(seteuid(42));
	STEP(seteuid(0));
	STEP(setegid(0));
	STEP(setgroups(0, NULL));
}

/* ---------- scenario 2: dropping, and failing to regain ---------- */

static void sc_drop_all(void)
{
	gid_t zero[1] = { 0 };

	drop_all();
	STEP(sys_setuid(0));
	STEP(sys_setresuid(-1, 0, -1));
	STEP(sys_setresuid(0, 0, 0));
	STEP(sys_setreuid(0, -1));
	STEP(sys_setgid(0));
	STEP(sys_setresgid(-1, 0, -1));
	STEP(sys_setgroups(1, zero));
	STEP(sys_setgroups(0, NULL));
	STEP(capset_v3(FULL, FULL, 0));
	STEP(capset_v3(BIT(CAP_SETUID), BIT(CAP_SETUID), 0));
	STEP(capset_v3(0, 0, 0));
	STEP(sys_setfsuid(0));
	STEP(sys_setfsgid(0));
	STEP(sys_setuid(1000));
	STEP(sys_setreuid(1000, 1000));
	STEP(sys_setresuid(-1, -1, -1));
	STEP(sys_setuid(-1));
	STEP(sys_setgroups(65537, NULL));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS));
	STEP(sys_prctl(PR_SET_KEEPCAPS, 1));
	STEP(seteuid(0));
	STEP(setuid(0));
}

static void sc_drop_euid(void)
{
	STEP(seteuid(1000));
	STEP(sys_setresuid(-1, 2000, -1));
	STEP(seteuid(0));
	STEP(sys_setresuid(-1, 1000, 1000));
	STEP(seteuid(0));
	STEP(sys_setresuid(1000, -1, -1));
	STEP(sys_setresuid(0, -1, 0));
	STEP(setegid(1000));
	STEP(setegid(0));
	STEP(sys_setresgid(1000, 1000, 1000));
	STEP(sys_setresgid(0, 0, 0));
}

static void sc_drop_keep_suid(void)
{
	STEP(sys_setresuid(1000, 1000, 0));
	STEP(sys_setgid(1000));
	STEP(sys_setresuid(0, 0, 0));
	STEP(sys_setresuid(1000, 2000, 0));
	STEP(sys_setresuid(2000, 0, 1000));
	STEP(sys_setresuid(0, 0, 0));
	STEP(sys_setresuid(1000, 1000, 1000));
	STEP(sys_setresuid(1000, 1000, 0));
}

/* busybox su: setgroups, setgid, setuid. */
static void sc_su(void)
{
	gid_t g[1] = { 65534 };

	STEP(setgroups(1, g));
	STEP(setgid(65534));
	STEP(setuid(65534));
	STEP(setuid(0));
}

/* ---------- scenario 3: keepcaps and securebits ---------- */

static void sc_keepcaps(void)
{
	STEP(sys_prctl(PR_GET_KEEPCAPS, 0));
	STEP(sys_prctl(PR_SET_KEEPCAPS, 1));
	STEP(sys_setresuid(1000, 1000, 1000));
	STEP(capset_v3(BIT(CAP_SETUID), FULL, 0));
	STEP(capset_v3(FULL, FULL, 0));
	STEP(sys_setresuid(0, 0, 0));
	STEP(sys_prctl(PR_SET_KEEPCAPS, 2));
	STEP(sys_prctl(PR_SET_KEEPCAPS, 0));
	STEP(sys_setresuid(-1, 1000, -1));
	STEP(sys_setresuid(1000, -1, 1000));
	STEP(sys_setresuid(0, 0, 0));
	STEP(sys_setresuid(1000, 1000, 1000));
}

static void sc_securebits(void)
{
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED));
	STEP(sys_prctl(PR_SET_KEEPCAPS, 0));
	STEP(sys_prctl(PR_SET_KEEPCAPS, 1));
	STEP(sys_prctl(PR_SET_SECUREBITS, 0));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT_LOCKED));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | (1UL << 30)));
	STEP(sys_setresuid(1000, 1000, 1000));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP));
	STEP(capset_v3(FULL, FULL, 0));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP));
	STEP(capset_v3(BIT(CAP_SETPCAP), FULL, 0));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP));
}

static void sc_nofixup(void)
{
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP));
	STEP(sys_setresuid(-1, 1000, -1));
	STEP(sys_setfsuid(2000));
	STEP(sys_setresuid(1000, 1000, 1000));
	STEP(sys_setresuid(0, 0, 0));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED));
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP_LOCKED));
	STEP(sys_prctl(PR_SET_SECUREBITS, 0));
}

/* ---------- scenario 4: fsuid and fsgid ---------- */

static void sc_fsuid(void)
{
	STEP(sys_setfsuid(-1));
	STEP(sys_setfsuid(1000));
	STEP(sys_setfsuid(-1));
	STEP(sys_setfsuid(2000));
	STEP(sys_setfsuid(0));
	STEP(sys_setfsgid(1000));
	STEP(sys_setfsgid(-1));
	STEP(sys_setfsgid(0));
	STEP(sys_setfsuid(1000));
	STEP(sys_setresuid(-1, -1, -1));
	STEP(sys_setresuid(-1, 0, -1));
	STEP(sys_setfsuid(1000));
	STEP(sys_setfsuid(0));
	STEP(capset_v3(FULL & ~BIT(CAP_CHOWN), FULL & ~BIT(CAP_CHOWN), 0));
	STEP(sys_setfsuid(1000));
	STEP(sys_setfsuid(0));
	STEP(sys_setresuid(1000, 2000, 3000));
	STEP(sys_setfsuid(3000));
	STEP(sys_setfsuid(4000));
	STEP(sys_setfsuid(1000));
	STEP(sys_setfsuid(0));
	STEP(sys_setfsgid(1000));
	STEP(sys_setresuid(-1, 1000, -1));
}

/* ---------- scenario 5: threads ---------- */

static sem_t go_t, done_t;

static void *thread_raw_drop(void *arg)
{
	(void)arg;
	scen = "threads/t1";
	STEP(sys_setresgid(-1, 1000, -1));
	STEP(sys_setresuid(1000, 1000, 1000));
	/* a child forked by this thread inherits this thread's ids */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		scen = "threads/t1-child";
		state();
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	out("child exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return NULL;
}

static void *thread_inherit(void *arg)
{
	(void)arg;
	scen = "threads/t2";
	state();
	return NULL;
}

static void *thread_wait(void *arg)
{
	(void)arg;
	scen = "threads/t3";
	for (;;) {
		while (sem_wait(&go_t) != 0)
			;
		state();
		sem_post(&done_t);
	}
	return NULL;
}

static sem_t ready4, finish4;
static pid_t t4_tid;

static void *thread_capdrop(void *arg)
{
	(void)arg;
	scen = "threads/t4";
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW), FULL & ~BIT(CAP_NET_RAW), BIT(CAP_KILL)));
	STEP(sys_setresuid(-1, 1000, -1));
	t4_tid = (pid_t)syscall(SYS_gettid);
	sem_post(&ready4);
	while (sem_wait(&finish4) != 0)
		;
	return NULL;
}

static void sc_threads(void)
{
	struct caps c;

	pthread_t t;
	gid_t g[1] = { 65534 };

	/* a thread's raw setresuid changes only that thread */
	pthread_create(&t, NULL, thread_raw_drop, NULL);
	pthread_join(t, NULL);
	out("main thread after t1:");
	state();

	/* a new thread inherits the ids of the thread creating it */
	STEP(sys_setresuid(-1, 1000, -1));
	pthread_create(&t, NULL, thread_inherit, NULL);
	pthread_join(t, NULL);
	STEP(sys_setresuid(-1, 0, -1));

	/* capget and capset naming another thread of the process */
	sem_init(&ready4, 0, 0);
	sem_init(&finish4, 0, 0);
	pthread_create(&t, NULL, thread_capdrop, NULL);
	while (sem_wait(&ready4) != 0)
		;
	memset(&c, 0, sizeof c);
	DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, t4_tid, &c));
	out("  t4 via capget(tid): eff=%011llx prm=%011llx inh=%011llx",
	    (unsigned long long)c.e, (unsigned long long)c.p, (unsigned long long)c.i);
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, t4_tid, FULL, FULL, 0));
	sem_post(&finish4);
	pthread_join(t, NULL);

	/* glibc's wrappers apply to every thread */
	sem_init(&go_t, 0, 0);
	sem_init(&done_t, 0, 0);
	pthread_create(&t, NULL, thread_wait, NULL);
	sem_post(&go_t);
	sem_wait(&done_t);
	STEP(setgroups(1, g));
	sem_post(&go_t);
	sem_wait(&done_t);
	STEP(setegid(65534));
	STEP(seteuid(42));
	sem_post(&go_t);
	sem_wait(&done_t);
	STEP(seteuid(0));
	STEP(setresgid(1000, 1000, 1000));
	STEP(setresuid(1000, 1000, 1000));
	sem_post(&go_t);
	sem_wait(&done_t);
	STEP(setresuid(0, 0, 0));
	sem_post(&go_t);
	sem_wait(&done_t);
}

/* ---------- scenario 6: execve after credential changes ---------- */

static void prep_drop_all(void) { drop_all(); }
static void prep_seteuid(void) { STEP(seteuid(1000)); }
static void prep_euid0(void) { STEP(sys_setresuid(1000, 0, 1000)); }
static void prep_ruid0(void) { STEP(sys_setresuid(0, 1000, 1000)); }
static void prep_fsuid(void) { STEP(sys_setfsuid(1000)); STEP(sys_setfsgid(1000)); }

static void prep_keepcaps(void)
{
	STEP(sys_prctl(PR_SET_KEEPCAPS, 1));
	STEP(capset_v3(FULL, FULL, BIT(CAP_NET_RAW)));
	STEP(sys_setresuid(1000, 1000, 1000));
}

static void prep_secbit_keepcaps(void)
{
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP));
	STEP(sys_setresuid(1000, 1000, 1000));
}

static void prep_groups(void)
{
	gid_t g[3] = { 30, 10, 20 };

	STEP(sys_setgroups(3, g));
	STEP(sys_setresgid(1000, 2000, 3000));
}

static void prep_noroot(void)
{
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_NOROOT));
}

static void prep_drop_prm(void)
{
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW), FULL & ~BIT(CAP_NET_RAW), BIT(CAP_KILL)));
}

/* exec from a thread other than the leader: the new program gets that
 * thread's credentials. */
static void *thread_exec(void *arg)
{
	char *argv[] = { "probe", "--after-exec", "exec/from-thread", NULL };

	(void)arg;
	scen = "exec/from-thread";
	STEP(sys_setresgid(1000, 1000, 1000));
	STEP(sys_setresuid(2000, 2000, 2000));
	out("execve(/proc/self/exe) from a second thread");
	execv(self_exe, argv);
	out("execve failed: %s", errname(errno));
	_exit(127);
}

static void prep_thread_exec(void)
{
	pthread_t t;

	STEP(sys_setresuid(-1, 1000, -1));
	pthread_create(&t, NULL, thread_exec, NULL);
	pthread_join(t, NULL);
	for (;;)
		pause();
}

/* a vfork child execs with the dropped credentials, then the parent too */
static void prep_vfork(void)
{
	char *argv[] = { "probe", "--after-exec", "exec/vfork-child", NULL };
	pid_t pid;
	int st;

	drop_all();
	pid = vfork();
	if (pid == 0) {
		execv(self_exe, argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	out("vfork child: exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void sc_exec(void)
{
	run_exec("exec/root", NULL, self_exe, NULL);
	run_exec("exec/drop-all", prep_drop_all, self_exe, NULL);
	run_exec("exec/seteuid", prep_seteuid, self_exe, NULL);
	run_exec("exec/euid0", prep_euid0, self_exe, NULL);
	run_exec("exec/ruid0", prep_ruid0, self_exe, NULL);
	run_exec("exec/fsuid", prep_fsuid, self_exe, NULL);
	run_exec("exec/keepcaps", prep_keepcaps, self_exe, NULL);
	run_exec("exec/secbit-keepcaps", prep_secbit_keepcaps, self_exe, NULL);
	run_exec("exec/groups", prep_groups, self_exe, NULL);
	run_exec("exec/noroot", prep_noroot, self_exe, NULL);
	run_exec("exec/drop-prm", prep_drop_prm, self_exe, NULL);
	run_exec("exec/drop-all-setuid0", prep_drop_all, self_exe, "setuid0");
	run_exec("exec/from-thread", prep_thread_exec, self_exe, NULL);
	run_exec("exec/vfork", prep_vfork, self_exe, NULL);
}

/* ---------- scenario 7: setreuid/setregid/setuid saved-id rules ---------- */

static void sc_setreuid(void)
{
	STEP(sys_setreuid(-1, 0));
	STEP(sys_setreuid(-1, 1000));
	STEP(sys_setreuid(-1, 0));
	STEP(sys_setreuid(1000, -1));
	STEP(sys_setreuid(0, 0));
	STEP(sys_setreuid(1000, 2000));
	STEP(sys_setreuid(2000, 1000));
	STEP(sys_setreuid(-1, 2000));
	STEP(sys_setreuid(-1, 1000));
	STEP(sys_setreuid(3000, -1));
	STEP(sys_setreuid(-1, 0));
	STEP(sys_setreuid(1000, 1000));
	STEP(sys_setreuid(-1, -1));
}

static void sc_setreuid_unpriv(void)
{
	STEP(sys_setresuid(1000, 2000, 3000));
	STEP(sys_setreuid(-1, 3000));
	STEP(sys_setreuid(-1, 1000));
	STEP(sys_setreuid(2000, -1));
	STEP(sys_setreuid(3000, -1));
	STEP(sys_setreuid(2000, 1000));
	STEP(sys_setreuid(1000, 2000));
	STEP(sys_setreuid(-1, 2000));
	STEP(sys_setreuid(4000, -1));
	STEP(sys_setreuid(-1, 4000));
}

static void sc_setregid(void)
{
	STEP(sys_setregid(-1, 1000));
	STEP(sys_setregid(-1, 0));
	STEP(sys_setregid(1000, -1));
	STEP(sys_setregid(2000, 3000));
	STEP(sys_setresuid(1000, 1000, 1000));
	STEP(sys_setregid(3000, 2000));
	STEP(sys_setregid(-1, 3000));
	STEP(sys_setregid(0, -1));
	STEP(sys_setregid(-1, 0));
	STEP(sys_setgid(2000));
	STEP(sys_setgid(3000));
	STEP(sys_setgid(0));
}

static void sc_setuid_unpriv(void)
{
	STEP(sys_setresgid(10, 20, 30));
	STEP(sys_setresuid(1000, 2000, 3000));
	STEP(sys_setuid(3000));
	STEP(sys_setuid(2000));
	STEP(sys_setuid(1000));
	STEP(sys_setuid(4000));
	STEP(sys_setgid(10));
	STEP(sys_setgid(30));
	STEP(sys_setgid(40));
	STEP(sys_setresuid(-1, 3000, -1));
	STEP(sys_setresuid(2000, -1, -1));
	STEP(sys_setresgid(-1, -1, 20));
	STEP(sys_setresgid(30, -1, -1));
	STEP(sys_setresgid(-1, 10, 10));
	STEP(sys_setresgid(40, -1, -1));
}

/* ---------- scenario 8: invalid arguments ---------- */

static void sc_invalid(void)
{
	static gid_t big[65537];
	gid_t two[2] = { 10, 20 };
	gid_t buf[4];
	gid_t unsorted[5] = { 50, 10, 30, 10, 4294967294u };
	gid_t bad[1] = { (gid_t)-1 };
	struct caps c;
	struct __user_cap_header_struct h;
	uint32_t r, e, s;

	STEP(sys_setuid(-1));
	STEP(sys_setgid(-1));
	STEP(sys_setresuid(-1, -1, -1));
	STEP(sys_setresgid(-1, -1, -1));
	STEP(sys_setreuid(-1, -1));
	STEP(sys_setregid(-1, -1));
	STEP(setuid(-1));
	STEP(seteuid(-1));
	STEP(setegid(-1));
	for (int k = 0; k < 65537; k++)
		big[k] = k;
	STEP(sys_setgroups(65537, big));
	STEP(sys_setgroups(65536, big));
	STEP(sys_getgroups(0, NULL));
	STEP(sys_setgroups(-1, two));
	STEP(sys_setgroups(2, two));
	STEP(sys_getgroups(1, buf));
	STEP(sys_getgroups(-1, buf));
	STEP(sys_getgroups(2, buf));
	out("  buf=%u,%u", buf[0], buf[1]);
	STEP(sys_getgroups(2, (gid_t *)8));
	STEP(sys_getgroups(0, (gid_t *)8));
	STEP(sys_setgroups(1, (gid_t *)8));
	STEP(sys_setgroups(1, NULL));
	STEP(sys_setgroups(0, (gid_t *)8));
	STEP(sys_setgroups(1, bad));
	STEP(sys_setgroups(5, unsorted));
	STEP(sys_setgroups(0, NULL));
	STEP(getgroups(0, NULL));
	STEP(sys_getresuid(&r, (void *)8, &s));
	STEP(sys_getresuid(NULL, &e, &s));
	STEP(sys_getresgid(&r, &e, (void *)8));
	STEP(capget_ver(0x12345678, 0, NULL));
	h.version = 0x12345678;
	h.pid = 0;
	DO(syscall(SYS_capget, &h, NULL));
	out("  version written back: %#x", h.version);
	h.version = 0x12345678;
	DO(syscall(SYS_capget, &h, buf));
	out("  version written back: %#x", h.version);
	DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, 0, NULL));
	DO(syscall(SYS_capget, NULL, buf));
	DO(syscall(SYS_capget, (void *)8, buf));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	DO(syscall(SYS_capget, &h, (void *)8));
	DO(capget_ver(_LINUX_CAPABILITY_VERSION_1, 0, &c));
	out("  v1: eff=%llx prm=%llx inh=%llx", (unsigned long long)c.e, (unsigned long long)c.p, (unsigned long long)c.i);
	DO(capget_ver(_LINUX_CAPABILITY_VERSION_2, 0, &c));
	out("  v2: eff=%llx prm=%llx inh=%llx", (unsigned long long)c.e, (unsigned long long)c.p, (unsigned long long)c.i);
	DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), &c) /* own pid */);
	DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, -5, &c));
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, 1, FULL, FULL, 0));
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), FULL, FULL, 0) /* own pid */);
	h.version = 0x12345678;
	h.pid = 0;
	DO(syscall(SYS_capset, &h, buf));
	out("  version written back: %#x", h.version);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	DO(syscall(SYS_capset, &h, NULL));
	DO(syscall(SYS_capset, NULL, buf));
	STEP(sys_prctl(PR_SET_KEEPCAPS, -1));
	STEP(sys_prctl(PR_SET_SECUREBITS, -1));
}

/* ids passed as full 64-bit -1 and out-of-range values */
static void sc_wide_args(void)
{
	STEP(syscall(SYS_setresuid, -1L, -1L, -1L));
	STEP(syscall(SYS_setresuid, -1L, 0x100000000L + 1000, -1L));
	STEP(syscall(SYS_setresuid, -1L, 0L, -1L));
	STEP(syscall(SYS_setresgid, 0xffffffff00000000UL + 1000, -1L, -1L));
	STEP(syscall(SYS_setuid, -1L));
	STEP(syscall(SYS_setfsuid, -1L));
	STEP(syscall(SYS_setresuid, -1L, 4294967294UL, -1L));
	STEP(syscall(SYS_setresuid, -1L, 0L, -1L));
	STEP(syscall(SYS_setfsgid, 4294967294UL));
	STEP(syscall(SYS_setfsgid, 0L));
	STEP(syscall(SYS_setgroups, 0x100000000UL, NULL));
}

/* ---------- scenario 9: set-user-ID-root executable ---------- */

static void prep_noroot_drop(void)
{
	STEP(sys_prctl(PR_SET_SECUREBITS, SECBIT_NOROOT));
	drop_all();
}

static void sc_suid(void)
{
	if (!suid_path) {
		out("skipped: no --suid");
		return;
	}
	run_exec("suid/root", NULL, suid_path, NULL);
	run_exec("suid/drop-all", prep_drop_all, suid_path, NULL);
	run_exec("suid/drop-all-setuid0", prep_drop_all, suid_path, "setuid0");
	run_exec("suid/seteuid", prep_seteuid, suid_path, NULL);
	run_exec("suid/noroot", prep_noroot_drop, suid_path, NULL);
}

/* ---------- scenario 10: chown family ---------- */

/* create opens path with O_CREAT, stores the descriptor in *fd and returns
 * 0, or returns -1; the descriptor number itself is not printed. */
static long create(const char *path, int *fd)
{
	*fd = open(path, O_CREAT | O_RDWR, 0644);
	return *fd < 0 ? -1 : 0;
}

/* chown_setup makes the directory DIR/name holding the files f (left
 * open, descriptor returned), rootfile, mine, and the symbolic links
 * l -> f and dangling -> missing, and makes it the working directory. */
static int chown_setup(const char *name)
{
	int fd, other;

	DO(chdir(work_dir));
	DO(mkdir(name, 0755));
	DO(chdir(name));
	DO(create("f", &fd));
	DO(create("rootfile", &other));
	close(other);
	DO(create("mine", &other));
	close(other);
	DO(symlink("f", "l"));
	DO(symlink("missing", "dangling"));
	return fd;
}

/* invalid path pointers, hidden from the compiler's nonnull checks */
static const char *volatile null_path = NULL;
static const char *volatile bad_path = (const char *)8;

static void sc_chown(void)
{
	int fd = chown_setup("chown");
	int pfd = open("f", O_PATH);

	DO(chown("f", 1000, 1000));
	DO(chown("f", -1, -1));
	DO(chown("f", 0, 0));
	DO(chown("f", 65534, -1));
	DO(chown("f", -1, 4294967294u));
	DO(chown("missing", 0, 0));
	DO(chown("f/x", 0, 0));
	DO(chown("dangling", 0, 0));
	DO(chown("", 0, 0));
	DO(chown(null_path, 0, 0));
	DO(chown(bad_path, 0, 0));
	DO(lchown("dangling", 1000, 1000));
	DO(lchown("l", 1000, 1000));
	DO(lchown("missing", 1000, 1000));
	DO(fchown(fd, 1000, 1000));
	DO(fchown(fd, -1, -1));
	DO(fchown(-1, 0, 0));
	DO(fchown(999, 0, 0));
	DO(fchown(pfd, 0, 0));
	DO(fchownat(AT_FDCWD, "l", 1000, 1000, AT_SYMLINK_NOFOLLOW));
	DO(fchownat(AT_FDCWD, "l", 0, 0, 0));
	DO(fchownat(AT_FDCWD, "dangling", 0, 0, 0));
	DO(fchownat(AT_FDCWD, "dangling", 0, 0, AT_SYMLINK_NOFOLLOW));
	DO(fchownat(fd, "", 0, 0, AT_EMPTY_PATH));
	DO(fchownat(pfd, "", 0, 0, AT_EMPTY_PATH));
	DO(fchownat(fd, "", 0, 0, 0));
	DO(fchownat(fd, "f", 0, 0, 0));
	DO(fchownat(AT_FDCWD, "f", 0, 0, 0x12345));
	DO(fchownat(-1, "f", 0, 0, 0));
	DO(fchownat(-1, "/nonexistent-remainroot-probe", 0, 0, 0));
	DO(syscall(SYS_chown, "f", 0x100000000UL + 1000, -1L));
	DO(syscall(SYS_chown, "f", -1L, -1L));

	/* fsuid 1000 drops CAP_CHOWN: chown of a root-owned file fails */
	STEP(sys_setfsuid(1000));
	DO(chown("rootfile", 1000, -1));
	DO(chown("rootfile", -1, -1));
	STEP(sys_setfsuid(0));
	DO(chown("rootfile", 1000, -1));
	DO(chown("rootfile", 0, -1));

	/* after dropping to 1000, a root-owned file cannot be given away;
	 * every file is root's again first, so that no result here depends on
	 * an owner given by an earlier chown (see chown-owned for that) */
	DO(fchown(fd, 0, 0));
	DO(lchown("l", 0, 0));
	drop_all();
	DO(chown("rootfile", 1000, -1));
	DO(chown("rootfile", -1, 1000));
	DO(chown("rootfile", 0, 0));
	DO(lchown("rootfile", 1000, 1000));
	DO(fchownat(AT_FDCWD, "rootfile", 1000, 1000, AT_SYMLINK_NOFOLLOW));
	DO(chown("missing", 1000, 1000));
	DO(fchown(fd, 1000, -1));
	DO(fchown(fd, 0, 0));
}

/* files given to the dropped uid: the owner may chown them to itself */
static void sc_chown_owned(void)
{
	int fd = chown_setup("chown-owned");

	DO(chown("mine", 1000, 1000));
	DO(fchown(fd, 1000, 1000));
	drop_all();
	DO(chown("mine", 1000, 1000));
	DO(chown("mine", -1, 1000));
	DO(chown("mine", -1, -1));
	DO(chown("mine", 2000, -1));
	DO(chown("mine", -1, 0));
	DO(chown("mine", 0, -1));
	DO(fchown(fd, 1000, 1000));
	DO(fchown(fd, -1, 2000));
	DO(fchownat(fd, "", -1, 1000, AT_EMPTY_PATH));
}

/* ---------- scenario 11: capset ---------- */

static void sc_capset(void)
{
	struct caps c;

	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW), FULL, 0));
	STEP(capset_v3(FULL, FULL, 0));
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW), FULL & ~BIT(CAP_NET_RAW), 0));
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW), FULL, 0));
	STEP(capset_v3(FULL, FULL & ~BIT(CAP_NET_RAW), 0));
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW), FULL & ~BIT(CAP_NET_RAW), BIT(CAP_NET_RAW) | BIT(CAP_KILL)));
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW) & ~BIT(CAP_SETPCAP), FULL & ~BIT(CAP_NET_RAW), BIT(CAP_NET_RAW) | BIT(CAP_KILL)));
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW) & ~BIT(CAP_SETPCAP), FULL & ~BIT(CAP_NET_RAW), 0));
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW) & ~BIT(CAP_SETPCAP), FULL & ~BIT(CAP_NET_RAW), BIT(CAP_NET_RAW)));
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW) & ~BIT(CAP_SETPCAP), FULL & ~BIT(CAP_NET_RAW), BIT(CAP_SYS_ADMIN)));
	STEP(capset_v3(FULL & ~BIT(CAP_NET_RAW) & ~BIT(CAP_SETPCAP), FULL & ~BIT(CAP_NET_RAW) & ~BIT(CAP_SYS_ADMIN), BIT(CAP_SYS_ADMIN)));
	STEP(capset_v3(0, 0, BIT(CAP_SYS_ADMIN)));
	STEP(capset_v3(0, 0, 0));
	STEP(capset_v3(0, 0, BIT(CAP_SYS_ADMIN)));
	STEP(capset_v3(BIT(CAP_KILL), 0, 0));
	c = cur_caps();
	out("  caps via capget: eff=%llx", (unsigned long long)c.e);
}

/* v1 capset sets only the low 32 capabilities and clears the rest */
static void sc_capset_v1(void)
{
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_1, 0, 0xffffffff, 0xffffffff, 0));
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_1, 0, FULL, FULL, 0));
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_2, 0, 0xffffffff, 0xffffffff, 0));
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, 0, 0xffffffff, 0xffffffff, 0));
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_1, 0, 0xfffffffe, 0xfffffffe, 1));
	STEP(sys_setresuid(-1, 1000, -1));
	STEP(sys_setresuid(-1, 0, -1));
}

/* ---------- scenario 12: ambient and bounding sets ---------- */

/* the usual way to hand a capability to a non-root program: keep caps
 * across the uid change, then raise it in the ambient set and exec */
static void prep_ambient_keepcaps(void)
{
	XSTEP(capset_v3(FULL, FULL, BIT(CAP_NET_RAW) | BIT(CAP_KILL)));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	XSTEP(sys_prctl(PR_SET_KEEPCAPS, 1));
	XSTEP(sys_setresuid(1000, 1000, 1000));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
}

static void prep_ambient_drop(void)
{
	XSTEP(capset_v3(FULL, FULL, BIT(CAP_NET_RAW)));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	XSTEP(sys_setresuid(1000, 1000, 1000));
}

static void sc_ambient(void)
{
	run_exec("ambient/exec-keepcaps", prep_ambient_keepcaps, self_exe, NULL);
	run_exec("ambient/exec-drop", prep_ambient_drop, self_exe, NULL);
	capsets();
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	XSTEP(capset_v3(FULL, FULL, BIT(CAP_NET_RAW) | BIT(CAP_KILL)));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 99));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, 99, 0));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_KILL));
	XSTEP(capset_v3(FULL, FULL, BIT(CAP_KILL)));
	XSTEP(capset_v3(FULL, FULL, BIT(CAP_NET_RAW)));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
	XSTEP(sys_setresuid(-1, 1000, -1));
	XSTEP(sys_setresuid(-1, 0, -1));
	XSTEP(sys_setresuid(1000, 1000, 1000));
	XSTEP(sys_prctl3(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW));
}

static void prep_bset_drop(void)
{
	XSTEP(sys_prctl(PR_CAPBSET_DROP, CAP_NET_RAW));
}

static void sc_bounding(void)
{
	run_exec("bounding/exec-root", prep_bset_drop, self_exe, NULL);
	capsets();
	XSTEP(sys_prctl(PR_CAPBSET_READ, CAP_NET_RAW));
	XSTEP(sys_prctl(PR_CAPBSET_READ, 99));
	XSTEP(sys_prctl(PR_CAPBSET_DROP, 99));
	XSTEP(sys_prctl(PR_CAPBSET_DROP, CAP_NET_RAW));
	XSTEP(sys_prctl(PR_CAPBSET_READ, CAP_NET_RAW));
	XSTEP(capset_v3(FULL, FULL, BIT(CAP_NET_RAW)));
	XSTEP(capset_v3(FULL & ~BIT(CAP_SETPCAP), FULL, 0));
	XSTEP(sys_prctl(PR_CAPBSET_DROP, CAP_KILL));
	XSTEP(capset_v3(FULL, FULL, 0));
	XSTEP(sys_setresuid(1000, 1000, 1000));
	XSTEP(sys_prctl(PR_CAPBSET_DROP, CAP_KILL));
}

/* ---------- issue 11: own pid in a pid namespace, bad pointers,
 * read-only mounts, chowns after allowed ones, unmapped owners, seccomp
 * without CAP_SYS_ADMIN ---------- */

static sem_t ready_ns, finish_ns;
static pid_t ns_tid;

static void *thread_ownpid(void *arg)
{
	struct caps c;

	(void)arg;
	scen = "caps-own-pid/thread";
	ns_tid = (pid_t)syscall(SYS_gettid);
	/* capset with the process id from a thread that is not the leader
	 * names another thread: EPERM; its own tid works */
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), FULL & ~BIT(CAP_KILL), FULL, 0));
	STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, ns_tid, FULL & ~BIT(CAP_KILL), FULL, 0));
	memset(&c, 0, sizeof c);
	DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), &c));
	out("  leader via capget(getpid()): eff=%011llx", (unsigned long long)c.e);
	sem_post(&ready_ns);
	while (sem_wait(&finish_ns) != 0)
		;
	return NULL;
}

/* libcap-ng puts getpid() in the header: inside a pid namespace that is
 * the namespace's pid, not the host's */
static void sc_caps_own_pid(void)
{
	struct caps c;
	pthread_t t;
	int st;
	pid_t pid;

	DO(unshare(CLONE_NEWPID));
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		out("fork: %s", errname(errno));
		return;
	}
	if (pid == 0) {
		out("getpid() == 1: %d", getpid() == 1);
		memset(&c, 0, sizeof c);
		DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), &c));
		out("  eff=%011llx prm=%011llx", (unsigned long long)c.e, (unsigned long long)c.p);
		STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), FULL & ~BIT(CAP_NET_RAW), FULL, 0));
		STEP(capset_ver(_LINUX_CAPABILITY_VERSION_1, getpid(), FULL & ~BIT(CAP_NET_RAW), FULL, 0));
		STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), FULL, FULL, 0));
		sem_init(&ready_ns, 0, 0);
		sem_init(&finish_ns, 0, 0);
		pthread_create(&t, NULL, thread_ownpid, NULL);
		while (sem_wait(&ready_ns) != 0)
			;
		memset(&c, 0, sizeof c);
		DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, ns_tid, &c));
		out("  thread via capget(tid): eff=%011llx", (unsigned long long)c.e);
		STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, ns_tid, FULL, FULL, 0));
		DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, 4242, &c));
		DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, 4242, NULL));
		STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, 4242, FULL, FULL, 0));
		sem_post(&finish_ns);
		pthread_join(t, NULL);
		/* after a drop, the own pid still names the caller */
		STEP(sys_setresuid(1000, 1000, 1000));
		memset(&c, 0, sizeof c);
		DO(capget_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), &c));
		out("  eff=%011llx prm=%011llx", (unsigned long long)c.e, (unsigned long long)c.p);
		STEP(capset_ver(_LINUX_CAPABILITY_VERSION_3, getpid(), 0, 0, 0));
		fflush(stdout);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	out("pid 1 of the namespace: exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* page is an anonymous page with protections prot, filled with fill. */
static void *page(int prot, const void *fill, size_t n)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (fill)
		memcpy(p, fill, n);
	mprotect(p, 4096, prot);
	return p;
}

/* pointers to a PROT_NONE page and to a read-only one: the kernel's
 * copy_to_user and copy_from_user fault on them */
static void sc_efault(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_header_struct badver = { 0x12345678, 0 };
	struct __user_cap_data_struct d[2];
	uint32_t ids[3] = { 7, 7, 7 };
	gid_t g[2] = { 0, 0 };
	char *none = page(PROT_NONE, NULL, 0);
	char *ro_hdr = page(PROT_READ, &h, sizeof h);
	char *ro_badver = page(PROT_READ, &badver, sizeof badver);
	char *ro_path = page(PROT_READ, "f", 2);
	int fd;

	memset(d, 0, sizeof d);
	DO(chdir(work_dir));
	DO(mkdir("efault", 0755));
	DO(chdir("efault"));
	DO(create("f", &fd));
	DO(syscall(SYS_capget, &h, none));
	DO(syscall(SYS_capget, none, d));
	DO(syscall(SYS_capget, &h, ro_hdr));
	DO(syscall(SYS_capget, ro_hdr, d));
	DO(syscall(SYS_capget, ro_badver, d));
	DO(syscall(SYS_capget, ro_badver, NULL));
	DO(syscall(SYS_capset, none, d));
	DO(syscall(SYS_capset, &h, none));
	DO(syscall(SYS_capset, ro_hdr, none));
	DO(syscall(SYS_capset, ro_badver, d));
	DO(sys_getresuid(none, &ids[1], &ids[2]));
	DO(sys_getresgid(&ids[0], &ids[1], ro_hdr));
	DO(sys_getgroups(2, (gid_t *)none));
	DO(sys_getgroups(2, (gid_t *)ro_hdr));
	DO(sys_setgroups(1, (gid_t *)none));
	DO(sys_setgroups(1, g));
	DO(sys_getgroups(1, (gid_t *)ro_hdr));
	DO(sys_setgroups(0, NULL));
	DO(chown(none, 0, 0));
	DO(lchown(none, 0, 0));
	DO(fchownat(AT_FDCWD, none, 0, 0, 0));
	DO(fchownat(AT_FDCWD, none, 0, 0, AT_SYMLINK_NOFOLLOW));
	DO(chown(ro_path, 0, 0));
	DO(chown(none, 1000, 1000));
	DO(fchown(fd, 0, 0));
	/* the stat and xattr calls (emulated in mode full) */
	DO(stat(none, (struct stat *)ro_hdr));
	DO(lstat(ro_path, (struct stat *)none));
	DO(stat(ro_path, (struct stat *)ro_hdr));
	DO(fstat(fd, (struct stat *)none));
	DO(fstatat(fd, "", (struct stat *)ro_hdr, AT_EMPTY_PATH));
	DO(syscall(SYS_statx, AT_FDCWD, ro_path, 0, STATX_BASIC_STATS, none));
	DO(syscall(SYS_statx, AT_FDCWD, none, 0, STATX_BASIC_STATS, ro_hdr));
	DO(syscall(SYS_getxattr, none, "user.x", NULL, 0));
	DO(syscall(SYS_getxattr, ro_path, none, NULL, 0));
	DO(syscall(SYS_setxattr, none, "user.x", "1", 1, 0));
	DO(syscall(SYS_listxattr, ro_path, none, 64));
	DO(syscall(SYS_removexattr, none, "user.x"));
	/* without CAP_CHOWN the owner rule needs the file's owner first */
	STEP(capset_v3(FULL & ~BIT(CAP_CHOWN), FULL, 0));
	DO(chown(none, 0, -1));
	DO(lchown(none, 0, -1));
	DO(fchownat(AT_FDCWD, none, 0, -1, 0));
	DO(chown(ro_path, 0, -1));
	STEP(sys_setresuid(1000, 1000, 1000));
	DO(syscall(SYS_capget, &h, none));
	DO(syscall(SYS_capget, &h, ro_hdr));
	DO(syscall(SYS_capset, &h, none));
	DO(sys_getresuid(none, &ids[1], &ids[2]));
	DO(chown(none, 1000, -1));
	DO(chown(ro_path, 1000, -1));
}

/* chown_family_ro runs the chown family on DIR/ro, mounted read-only */
static void chown_family_ro(int fd)
{
	DO(chown("f", 1000, 1000));
	DO(chown("f", 0, 0));
	DO(chown("f", 0, -1));
	DO(chown("f", -1, -1));
	DO(chown("missing", 0, 0));
	DO(chown("f/x", 0, 0));
	DO(lchown("l", 0, 0));
	DO(lchown("l", 1000, -1));
	DO(fchown(fd, 0, 0));
	DO(fchown(fd, 1000, -1));
	DO(fchownat(AT_FDCWD, "l", 0, 0, AT_SYMLINK_NOFOLLOW));
	DO(fchownat(fd, "", 0, 0, AT_EMPTY_PATH));
	DO(fchownat(fd, "", 1000, -1, AT_EMPTY_PATH));
	DO(fchownat(AT_FDCWD, "f", 0, 0, 0x12345));
}

/* read-only mounts: the kernel checks the mount before the ownership
 * rules (but after the lookup) */
static void sc_erofs(void)
{
	int fd, other;

	DO(chdir(work_dir));
	DO(mkdir("erofs", 0755));
	DO(chdir("erofs"));
	DO(create("f", &other));
	close(other);
	DO(symlink("f", "l"));
	DO(unshare(CLONE_NEWNS));
	DO(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	DO(mount(".", ".", NULL, MS_BIND, NULL));
	DO(chdir("../erofs"));
	DO(mount(NULL, ".", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	fd = open("f", O_RDONLY);
	out("open(f) for reading: %s", fd < 0 ? errname(errno) : "ok");
	chown_family_ro(fd);
	out("without CAP_CHOWN:");
	STEP(capset_v3(FULL & ~BIT(CAP_CHOWN), FULL, 0));
	chown_family_ro(fd);
	out("as 1000:");
	STEP(sys_setresgid(1000, 1000, 1000));
	STEP(sys_setresuid(1000, 1000, 1000));
	chown_family_ro(fd);
}

/* an allowed chown by a caller without CAP_CHOWN, then refused ones: each
 * is decided on its own */
static void sc_chown_after_allowed(void)
{
	int fd, other;

	DO(chdir(work_dir));
	DO(mkdir("chown-after-allowed", 0755));
	DO(chdir("chown-after-allowed"));
	DO(create("f", &fd));
	DO(create("g", &other));
	close(other);
	STEP(capset_v3(FULL & ~BIT(CAP_CHOWN), FULL, 0));
	DO(fchownat(AT_FDCWD, "f", 0, -1, 0));
	DO(fchownat(AT_FDCWD, "f", 65534, -1, 0));
	DO(fchownat(AT_FDCWD, "f", 65534, -1, 0));
	DO(chown("f", 0, 0));
	DO(chown("f", 65534, -1));
	DO(fchown(fd, -1, 0));
	DO(fchown(fd, -1, 65534));
	DO(lchown("g", 0, -1));
	DO(lchown("g", 65534, -1));
	DO(fchownat(fd, "", 0, 0, AT_EMPTY_PATH));
	DO(fchownat(fd, "", 65534, 0, AT_EMPTY_PATH));
	DO(chown("g", 0, -1));
	DO(chown("missing", 0, -1));
	DO(chown("g", 65534, -1));
	STEP(sys_setfsuid(65534));
	DO(chown("g", 0, -1));
	DO(chown("g", 65534, -1));
	DO(chown("g", 65534, -1));
}

static const char *unmapped_path;

/* write_file writes s to path. */
static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	long n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (long)strlen(s) ? 0 : -1;
}

/* the chowns of a file whose owner the namespace does not map, as uid 0
 * of a user namespace that maps only its creator's uid 0 */
static void unmapped_child(int go)
{
	struct stat st;
	char c, link[4096], dir[4096];
	int fd;

	if (read(go, &c, 1) != 1) {
		out("no map");
		return;
	}
	DO(stat(unmapped_path, &st));
	out("  owner %u:%u", st.st_uid, st.st_gid);
	fd = open(unmapped_path, O_RDONLY);
	out("open for reading: %s", fd < 0 ? errname(errno) : "ok");
	DO(chown(unmapped_path, 0, 0));
	DO(chown(unmapped_path, 0, -1));
	DO(chown(unmapped_path, -1, 0));
	DO(chown(unmapped_path, 65534, 65534));
	DO(chown(unmapped_path, 65534, -1));
	DO(lchown(unmapped_path, 0, 0));
	DO(fchown(fd, 0, 0));
	DO(fchown(fd, 65534, -1));
	DO(fchownat(fd, "", 0, 0, AT_EMPTY_PATH));
	DO(fchownat(AT_FDCWD, unmapped_path, 0, 0, AT_SYMLINK_NOFOLLOW));
	/* FILE.link, a symbolic link, and FILE.dir, a sticky directory, have
	 * the same owner */
	snprintf(link, sizeof link, "%s.link", unmapped_path);
	snprintf(dir, sizeof dir, "%s.dir", unmapped_path);
	DO(lchown(link, 0, 0));
	DO(lchown(link, -1, 0));
	DO(fchownat(AT_FDCWD, link, 0, 0, AT_SYMLINK_NOFOLLOW));
	DO(chown(dir, 0, 0));
	DO(chown(dir, 0, -1));
	DO(lchown(dir, 0, 0));
	STEP(sys_setresgid(65534, 65534, 65534));
	STEP(sys_setresuid(65534, 65534, 65534));
	DO(chown(unmapped_path, 65534, -1));
	DO(chown(unmapped_path, -1, 65534));
	DO(chown(unmapped_path, 65534, 65534));
	DO(fchown(fd, 65534, -1));
	DO(fchown(fd, -1, 65534));
	DO(chown(unmapped_path, 0, 0));
}

static void sc_unmapped_owner(void)
{
	char path[64];
	int go[2], st;
	pid_t pid;

	if (!unmapped_path) {
		out("skipped: no --unmapped");
		return;
	}
	if (pipe(go) != 0) {
		out("pipe: %s", errname(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (unshare(CLONE_NEWUSER) != 0) {
			out("unshare: %s", errname(errno));
			_exit(1);
		}
		unmapped_child(go[0]);
		fflush(stdout);
		_exit(0);
	}
	close(go[0]);
	/* the child's namespace maps uid and gid 0 of this one, and 65534
	 * where this one has it (a single-id namespace has not: emulated ids
	 * need no mapping) */
	usleep(100000);
	snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
	DO(write_file(path, "deny"));
	snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
	DO(write_file(path, "0 0 1\n65534 65534 1\n") == 0 || write_file(path, "0 0 1") == 0);
	snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
	DO(write_file(path, "0 0 1\n65534 65534 1\n") == 0 || write_file(path, "0 0 1") == 0);
	if (write(go[1], "g", 1) != 1)
		out("write: %s", errname(errno));
	close(go[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	out("child: exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* a seccomp filter that allows everything */
static long install_filter(int how)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { 1, allow };
	struct sock_fprog empty = { 0, allow };

	switch (how) {
	case 0: return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	case 1: return syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0UL, 0UL);
	case 2: return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL);
	case 3: return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &empty);
	case 4: return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0x80000000U, &prog);
	}
	return -1;
}

/* loading a filter needs CAP_SYS_ADMIN in the effective set or
 * no_new_privs */
static void sc_seccomp_nocap(void)
{
	DO(install_filter(0));
	DO(install_filter(1));
	STEP(capset_v3(FULL & ~BIT(CAP_SYS_ADMIN), FULL, 0));
	DO(install_filter(0));
	DO(install_filter(1));
	DO(install_filter(2));
	DO(install_filter(3));
	DO(install_filter(4));
	DO(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, NULL));
	STEP(capset_v3(FULL, FULL, 0));
	DO(install_filter(0));
	STEP(sys_setresuid(1000, 1000, 1000));
	DO(install_filter(0));
	DO(install_filter(1));
	DO(sys_prctl(PR_SET_NO_NEW_PRIVS, 1));
	DO(install_filter(0));
	DO(install_filter(1));
	DO(install_filter(3));
}

/* ---------- driver ---------- */

struct scenario {
	const char *name;
	void (*fn)(void);
};

static const struct scenario scenarios[] = {
	{ "apt", sc_apt },
	{ "drop-all", sc_drop_all },
	{ "drop-euid", sc_drop_euid },
	{ "drop-keep-suid", sc_drop_keep_suid },
	{ "su", sc_su },
	{ "keepcaps", sc_keepcaps },
	{ "securebits", sc_securebits },
	{ "nofixup", sc_nofixup },
	{ "fsuid", sc_fsuid },
	{ "threads", sc_threads },
	{ "exec", sc_exec },
	{ "setreuid", sc_setreuid },
	{ "setreuid-unpriv", sc_setreuid_unpriv },
	{ "setregid", sc_setregid },
	{ "setuid-unpriv", sc_setuid_unpriv },
	{ "invalid", sc_invalid },
	{ "wide-args", sc_wide_args },
	{ "suid", sc_suid },
	{ "chown", sc_chown },
	{ "chown-owned", sc_chown_owned },
	{ "capset", sc_capset },
	{ "capset-v1", sc_capset_v1 },
	{ "ambient", sc_ambient },
	{ "bounding", sc_bounding },
	{ "caps-own-pid", sc_caps_own_pid },
	{ "efault", sc_efault },
	{ "erofs", sc_erofs },
	{ "chown-after-allowed", sc_chown_after_allowed },
	{ "unmapped-owner", sc_unmapped_owner },
	{ "seccomp-nocap", sc_seccomp_nocap },
};

/* listed reports whether name is one of the comma-separated names. */
static int listed(const char *names, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = names; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0))
			return 1;
	return 0;
}

static void after_exec(const char *tag, const char *action)
{
	scen = tag;
	out("after execve");
	auxv();
	state();
	capsets();
	if (action && strcmp(action, "setuid0") == 0) {
		STEP(setuid(0));
		STEP(setgroups(0, NULL));
	}
}

int main(int argc, char **argv)
{
	const char *only = NULL;

	/* PR_CAPBSET_READ is EINVAL beyond the last capability */
	while (last_cap < 63 && sys_prctl(PR_CAPBSET_READ, last_cap + 1) >= 0)
		last_cap++;

	if (argc >= 3 && strcmp(argv[1], "--after-exec") == 0) {
		after_exec(argv[2], argc >= 4 ? argv[3] : NULL);
		return 0;
	}
	for (int k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--dir") == 0 && k + 1 < argc)
			work_dir = argv[++k];
		else if (strcmp(argv[k], "--suid") == 0 && k + 1 < argc)
			suid_path = argv[++k];
		else if (strcmp(argv[k], "--only") == 0 && k + 1 < argc)
			only = argv[++k];
		else if (strcmp(argv[k], "--unmapped") == 0 && k + 1 < argc)
			unmapped_path = argv[++k];
		else {
			fprintf(stderr, "usage: probe [--dir DIR] [--suid PATH] [--unmapped FILE] [--only NAMES] | --after-exec TAG [setuid0]\n");
			return 2;
		}
	}

	FULL = cur_caps().p;
	scen = "init";
	auxv();
	state();

	for (size_t k = 0; k < sizeof scenarios / sizeof scenarios[0]; k++) {
		const struct scenario *sc = &scenarios[k];
		int st;
		pid_t pid;

		if (only && !listed(only, sc->name))
			continue;
		scen = sc->name;
		out("begin");
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			out("fork: %s", errname(errno));
			return 1;
		}
		if (pid == 0) {
			sc->fn();
			fflush(stdout);
			_exit(0);
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(st))
			out("end: exit status %d", WEXITSTATUS(st));
		else
			out("end: killed by signal %d", WTERMSIG(st));
	}
	return 0;
}
