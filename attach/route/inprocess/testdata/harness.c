/*
 * harness: installs the in-process handler and its filter layer in itself
 * (no tracer, no listener) and makes stat calls, printing what they
 * return. The test runs it with and without the handler and compares.
 *
 * harness BLOB DATA LAYER HANDLER_ADDR DATA_ADDR ENTRY RESTORER MODE [OP PATH]...
 * with HARNESS_BASE naming the process's own filter, installed before the
 * layer (the test's stands in for the tracer's: it notifies the handler's
 * asked calls, which fail with ENOSYS with no listener).
 * HARNESS_DATA_OUT names the file the data page is written to at the end.
 * MODE: native (nothing installed), handler, or handler-noxattrat (and a
 * filter that refuses getxattrat with ENOSYS, as podman's profile does). OP: stat lstat fstat
 * fstatat (newfstatat, AT_FDCWD) fstatat-dir (relative to the path's
 * directory) statx statx-empty (statx of an O_PATH descriptor).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <libgen.h>
#include <poll.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <sys/wait.h>

/* What the signal operations' handlers saw. */
static const char *handler_path;
static volatile long handler_stat = 99;
static volatile int own_sigsys_ran;

static void stat_in_handler(int sig)
{
	struct stat st;
	(void)sig;
	handler_stat = syscall(SYS_newfstatat, AT_FDCWD, handler_path, &st, 0);
}

static void own_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	own_sigsys_ran = si->si_code == SI_TKILL ? 1 : 2;
}

static void *thread_stat(void *path)
{
	struct stat st;
	return (void *)syscall(SYS_newfstatat, AT_FDCWD, (const char *)path, &st, 0);
}

/* signal_op runs one of the operations on signals, each followed or
 * interrupted by a stat of path, and prints what it saw; it returns 0 if
 * op is none of them. */
static int signal_op(const char *op, const char *path)
{
	struct stat st;
	struct sigaction sa, old;
	sigset_t all, prev;
	long r;
	handler_path = path;
	handler_stat = 99;
	sigfillset(&all);
	memset(&sa, 0, sizeof sa);
	if (!strcmp(op, "own-sigsys")) {
		/* The program's own SIGSYS handler gets its SIGSYS, reads back
		 * as its own, and the stats still work. */
		sa.sa_sigaction = own_sigsys;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSYS, &sa, &old);
		raise(SIGSYS);
		r = syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0);
		sigaction(SIGSYS, 0, &old);
		printf("%s: ran=%d stat=%ld own=%d\n", op, own_sigsys_ran, r, old.sa_sigaction == own_sigsys);
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
		sigaction(SIGSYS, &sa, 0);
		return 1;
	}
	if (!strcmp(op, "block-all")) {
		sigprocmask(SIG_SETMASK, &all, &prev);
		r = syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0);
		sigset_t cur;
		sigprocmask(SIG_SETMASK, 0, &cur);
		printf("%s: stat=%ld usr1-blocked=%d\n", op, r, sigismember(&cur, SIGUSR1));
		sigprocmask(SIG_SETMASK, &prev, 0);
		return 1;
	}
	if (!strcmp(op, "fullmask-handler")) {
		sa.sa_handler = stat_in_handler;
		sa.sa_mask = all;
		sigaction(SIGUSR1, &sa, &old);
		raise(SIGUSR1);
		printf("%s: stat-in-handler=%ld\n", op, handler_stat);
		sigaction(SIGUSR1, &old, 0);
		return 1;
	}
	if (!strcmp(op, "sigsuspend")) {
		sa.sa_handler = stat_in_handler;
		sigaction(SIGUSR1, &sa, &old);
		sigset_t usr1, wait;
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, &prev);
		raise(SIGUSR1);
		wait = all;
		sigdelset(&wait, SIGUSR1);
		r = sigsuspend(&wait);
		printf("%s: %ld %s stat-in-handler=%ld\n", op, r, strerrorname_np(errno), handler_stat);
		sigprocmask(SIG_SETMASK, &prev, 0);
		sigaction(SIGUSR1, &old, 0);
		return 1;
	}
	if (!strcmp(op, "ppoll-mask") || !strcmp(op, "pselect-mask") || !strcmp(op, "epoll-pwait-mask")) {
		/* A pending SIGUSR1 is delivered while the call waits with
		 * every other signal blocked; its handler stats. */
		sa.sa_handler = stat_in_handler;
		sigaction(SIGUSR1, &sa, &old);
		sigset_t usr1, wait;
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, &prev);
		raise(SIGUSR1);
		wait = all;
		sigdelset(&wait, SIGUSR1);
		struct timespec second = {1, 0};
		if (op[1] == 'p')
			r = ppoll(0, 0, &second, &wait);
		else if (op[1] == 's')
			r = pselect(0, 0, 0, 0, &second, &wait);
		else {
			int ep = epoll_create1(0);
			struct epoll_event ev;
			r = epoll_pwait(ep, &ev, 1, 1000, &wait);
			int e = errno;
			close(ep);
			errno = e;
		}
		printf("%s: %ld %s stat-in-handler=%ld\n", op, r, strerrorname_np(errno), handler_stat);
		sigprocmask(SIG_SETMASK, &prev, 0);
		sigaction(SIGUSR1, &old, 0);
		return 1;
	}
	if (!strcmp(op, "reset-all")) {
		sa.sa_handler = SIG_DFL;
		for (int sig = 1; sig < 65; sig++)
			sigaction(sig, &sa, 0);
		r = syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0);
		printf("%s: stat=%ld\n", op, r);
		return 1;
	}
	if (!strcmp(op, "thread")) {
		pthread_t th;
		void *res;
		pthread_create(&th, 0, thread_stat, (void *)path);
		pthread_join(th, &res);
		printf("%s: stat=%ld\n", op, (long)res);
		return 1;
	}
	if (!strcmp(op, "fork") || !strcmp(op, "vfork")) {
		int status;
		pid_t pid = op[0] == 'v' ? vfork() : fork();
		if (pid == 0)
			_exit(syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0 ? 7 : 8);
		waitpid(pid, &status, 0);
		printf("%s: child exit=%d\n", op, WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
		return 1;
	}
	return 0;
}

static void *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); exit(2); }
	static char buf[1 << 20];
	*n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	void *p = malloc(*n);
	memcpy(p, buf, *n);
	return p;
}

#define SA_RESTORER 0x04000000

struct kernel_sigaction { uint64_t handler, flags, restorer, mask; };

static void install(char **argv)
{
	size_t nblob, ndata, nlayer;
	void *blob = slurp(argv[1], &nblob), *data = slurp(argv[2], &ndata), *layer = slurp(argv[3], &nlayer);
	uint64_t haddr = strtoull(argv[4], 0, 0), daddr = strtoull(argv[5], 0, 0);
	uint64_t entry = strtoull(argv[6], 0, 0), restorer = strtoull(argv[7], 0, 0);
	void *h = mmap((void *)haddr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	void *d = mmap((void *)daddr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (h != (void *)haddr || d != (void *)daddr) { perror("mmap"); exit(2); }
	memcpy(h, blob, nblob);
	memcpy(d, data, ndata);
	if (mprotect(h, 4096, PROT_READ | PROT_EXEC)) { perror("mprotect"); exit(2); }
	struct kernel_sigaction sa = { entry, SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTORER, restorer, 0 };
	if (syscall(SYS_rt_sigaction, SIGSYS, &sa, 0, 8)) { perror("rt_sigaction"); exit(2); }
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) { perror("prctl"); exit(2); }
	size_t nbase;
	void *base = slurp(getenv("HARNESS_BASE"), &nbase);
	struct sock_fprog baseprog = { (unsigned short)(nbase / sizeof(struct sock_filter)), base };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &baseprog)) { perror("seccomp base"); exit(2); }
	struct sock_fprog prog = { (unsigned short)(nlayer / sizeof(struct sock_filter)), layer };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) { perror("seccomp"); exit(2); }
}

static void print(const char *op, const char *path, long r, unsigned uid, unsigned gid, unsigned mode, unsigned long ino)
{
	if (r < 0)
		printf("%s %s: -%s\n", op, path, strerrorname_np(errno));
	else
		printf("%s %s: %ld uid=%u gid=%u mode=%o ino=%lu\n", op, path, r, uid, gid, mode, ino);
}

int main(int argc, char **argv)
{
	if (argc < 9) { fprintf(stderr, "usage: see the source\n"); return 2; }
	/* A buffer of its own: stdio makes no fstat of stdout, and the
	 * handler's counters count the operations' calls alone. */
	static char out[1 << 16];
	setvbuf(stdout, out, _IOFBF, sizeof out);
	if (strncmp(argv[8], "handler", 7) == 0)
		install(argv);
	if (strcmp(argv[8], "handler-noxattrat") == 0) {
		/* What podman's default profile does to getxattrat, which it
		 * does not list: ENOSYS. */
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 464, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 38),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { 4, f };
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) { perror("seccomp"); exit(2); }
	}
	for (int i = 9; i + 1 < argc; i += 2) {
		const char *op = argv[i], *path = argv[i + 1];
		struct stat st; struct statx sx;
		memset(&st, 0, sizeof st); memset(&sx, 0, sizeof sx);
		long r;
		if (!strcmp(op, "stat")) r = syscall(SYS_stat, path, &st);
		else if (!strcmp(op, "lstat")) r = syscall(SYS_lstat, path, &st);
		else if (!strcmp(op, "fstatat")) r = syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW);
		else if (!strcmp(op, "fstatat-dir")) {
			char a[4096], b[4096];
			snprintf(a, sizeof a, "%s", path); snprintf(b, sizeof b, "%s", path);
			int dfd = open(dirname(a), O_PATH | O_DIRECTORY);
			r = syscall(SYS_newfstatat, dfd, basename(b), &st, 0);
			close(dfd);
		} else if (!strcmp(op, "fstat") || !strcmp(op, "statx-empty")) {
			int fd = open(path, O_PATH | O_NOFOLLOW);
			if (!strcmp(op, "fstat")) r = syscall(SYS_fstat, fd, &st);
			else r = syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
			if (fd >= 0) close(fd);
		} else if (!strcmp(op, "statx")) r = syscall(SYS_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx);
		else if (signal_op(op, path))
			continue;
		else if (!strncmp(op, "bench:", 6)) {
			/* N stats of path, and N getppid: the cost of each, in ns */
			long n = atol(op + 6);
			struct timespec a, b, c;
			clock_gettime(CLOCK_MONOTONIC, &a);
			for (long k = 0; k < n; k++) syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0);
			clock_gettime(CLOCK_MONOTONIC, &b);
			for (long k = 0; k < n; k++) syscall(SYS_getppid);
			clock_gettime(CLOCK_MONOTONIC, &c);
			printf("%s %s: stat %.0f ns, getppid %.0f ns\n", op, path,
			       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n,
			       ((c.tv_sec - b.tv_sec) * 1e9 + (c.tv_nsec - b.tv_nsec)) / n);
			continue;
		}
		else { fprintf(stderr, "unknown op %s\n", op); return 2; }
		if (op[0] == 's' && op[1] == 't' && op[4] == 'x')
			print(op, path, r, sx.stx_uid, sx.stx_gid, sx.stx_mode, sx.stx_ino);
		else
			print(op, path, r, st.st_uid, st.st_gid, st.st_mode, st.st_ino);
	}
	if (strncmp(argv[8], "handler", 7) == 0) {
		/* The data page, counters and all, for the test to read. */
		const char *dump = getenv("HARNESS_DATA_OUT");
		int fd = dump ? open(dump, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
		if (fd < 0 || write(fd, (void *)strtoull(argv[5], 0, 0), 4096) != 4096 || close(fd)) { perror("data out"); return 2; }
	}
	return 0;
}
