// stat_registers: stats made with the syscall instruction directly, checking
// that every register the kernel preserves across a system call is
// preserved (in mode full, remainroot's stub makes these calls for the
// thread and returns to it), and that the owners and errors are right,
// while a timer signal whose handler stats too interrupts the loop.
//
// Usage: stat_registers ITERATIONS. It prepares its files in the working
// directory; the output must be the same as real root's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#if defined(__x86_64__)

// Registers after the call, and what they must be.
struct regs_after {
	unsigned long rdi, rsi, rdx, r10, r8, r9, rbx, rbp, r12, r13, r14, r15, rcx, r11, rsp, flags;
};
struct regs_after after, before;
unsigned long expected_rcx;

// probe_syscall(nr, a0, a1, a2, a3): makes the call with sentinels in
// every other register and an unusual flags pattern, records everything.
long probe_syscall(long nr, long a0, long a1, long a2, long a3);
__asm__(
	".intel_syntax noprefix\n"
	".globl probe_syscall\n"
	"probe_syscall:\n"
	"  push rbx\n  push rbp\n  push r12\n  push r13\n  push r14\n  push r15\n"
	"  mov rax, rdi\n"
	"  mov rdi, rsi\n"
	"  mov rsi, rdx\n"
	"  mov rdx, rcx\n"
	"  mov r10, r8\n"
	"  movabs r8, 0x0808080808080808\n"
	"  movabs r9, 0x0909090909090909\n"
	"  movabs rbx, 0x1b1b1b1b1b1b1b1b\n"
	"  movabs rbp, 0x1c1c1c1c1c1c1c1c\n"
	"  movabs r12, 0x1212121212121212\n"
	"  movabs r13, 0x1313131313131313\n"
	"  movabs r14, 0x1414141414141414\n"
	"  movabs r15, 0x1515151515151515\n"
	"  mov [rip+before+0], rdi\n"
	"  mov [rip+before+8], rsi\n"
	"  mov [rip+before+16], rdx\n"
	"  mov [rip+before+24], r10\n"
	"  mov [rip+before+32], r8\n"
	"  mov [rip+before+40], r9\n"
	"  mov [rip+before+112], rsp\n"
	"  lea rcx, [rip+1f]\n"
	"  mov [rip+expected_rcx], rcx\n"
	"  push rax\n"
	"  mov eax, 0x8d7\n" // OF SF ZF AF PF CF (and the reserved bit 1)
	"  push rax\n"
	"  popfq\n"
	"  pushfq\n"
	"  pop rcx\n"
	"  pop rax\n"
	"  mov [rip+before+120], rcx\n"
	"  syscall\n"
	"1:\n"
	"  pushfq\n"
	"  mov [rip+after+0], rdi\n"
	"  mov [rip+after+8], rsi\n"
	"  mov [rip+after+16], rdx\n"
	"  mov [rip+after+24], r10\n"
	"  mov [rip+after+32], r8\n"
	"  mov [rip+after+40], r9\n"
	"  mov [rip+after+48], rbx\n"
	"  mov [rip+after+56], rbp\n"
	"  mov [rip+after+64], r12\n"
	"  mov [rip+after+72], r13\n"
	"  mov [rip+after+80], r14\n"
	"  mov [rip+after+88], r15\n"
	"  mov [rip+after+96], rcx\n"
	"  mov [rip+after+104], r11\n"
	"  pop rcx\n"
	"  mov [rip+after+120], rcx\n"
	"  mov [rip+after+112], rsp\n"
	"  pop r15\n  pop r14\n  pop r13\n  pop r12\n  pop rbp\n  pop rbx\n"
	"  ret\n"
	".att_syntax\n");

static const char *regs_check(void) {
	static char why[128];
	const unsigned long arith = 0x8d5; // the flags set before the call
	struct { const char *name; unsigned long got, want; } c[] = {
		{"rdi", after.rdi, before.rdi}, {"rsi", after.rsi, before.rsi},
		{"rdx", after.rdx, before.rdx}, {"r10", after.r10, before.r10},
		{"r8", after.r8, before.r8}, {"r9", after.r9, before.r9},
		{"rbx", after.rbx, 0x1b1b1b1b1b1b1b1bUL}, {"rbp", after.rbp, 0x1c1c1c1c1c1c1c1cUL},
		{"r12", after.r12, 0x1212121212121212UL}, {"r13", after.r13, 0x1313131313131313UL},
		{"r14", after.r14, 0x1414141414141414UL}, {"r15", after.r15, 0x1515151515151515UL},
		{"rcx", after.rcx, expected_rcx}, {"rsp", after.rsp, before.rsp},
		{"r11-flags", after.r11 & arith, before.flags & arith},
		{"flags", after.flags & arith, before.flags & arith},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		if (c[i].got != c[i].want) {
			snprintf(why, sizeof why, "%s=%#lx(want %#lx)", c[i].name, c[i].got, c[i].want);
			return why;
		}
	return "ok";
}

static volatile sig_atomic_t handler_runs, handler_bad;

// The handler stats too (through libc), while the loop may be inside a stat.
static void on_alarm(int sig) {
	(void)sig;
	int saved = errno;
	struct stat st;
	handler_runs++;
	if (stat("owned", &st) != 0 || st.st_uid != 1234 || st.st_gid != 5678)
		handler_bad++;
	errno = saved;
}

static void report(const char *name, long ret, const struct stat *st) {
	if (ret >= 0 && st == NULL)
		printf("%s ret=fd regs=%s\n", name, regs_check());
	else if (ret < 0)
		printf("%s ret=%s regs=%s\n", name, strerrorname_np((int)-ret), regs_check());
	else
		printf("%s ret=%ld owner=%u:%u mode=%o regs=%s\n", name, ret, st->st_uid, st->st_gid,
		       st->st_mode & S_IFMT, regs_check());
}

int main(int argc, char **argv) {
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	if (mkdir("d", 0755) || close(open("d/f", O_CREAT | O_WRONLY, 0644)) ||
	    close(open("owned", O_CREAT | O_WRONLY, 0644)) || chown("owned", 1234, 5678) ||
	    symlink("owned", "link") || lchown("link", 4321, 8765) || mkfifo("fifo", 0644) ||
	    chown("fifo", 42, 43)) {
		perror("prepare");
		return 1;
	}
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	int ofd = open("owned", O_RDONLY);
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 1000}, {0, 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
	char last[16][256];
	int bad = 0;
	for (int i = 0; i < iters; i++) {
		struct {
			const char *name;
			long nr, a0, a1, a3;
		} cases[] = {
			{"stat-plain", SYS_stat, (long)"d/f", 0, 0},
			{"stat-owned", SYS_stat, (long)"owned", 0, 0},
			{"stat-missing", SYS_stat, (long)"missing", 0, 0},
			{"lstat-link", SYS_lstat, (long)"link", 0, 0},
			{"stat-link", SYS_stat, (long)"link", 0, 0},
			{"stat-fifo", SYS_stat, (long)"fifo", 0, 0},
			{"fstatat-dirfd", SYS_newfstatat, dfd, (long)"f", AT_SYMLINK_NOFOLLOW},
			{"fstatat-dirfd-missing", SYS_newfstatat, dfd, (long)"nothing", 0},
			// Answered by a seccomp notification, not the stub.
			{"fstat", SYS_fstat, ofd, 0, 0},
			{"fstatat-empty-path", SYS_newfstatat, ofd, (long)"", AT_EMPTY_PATH},
			// AT_EMPTY_PATH with a name: the notification hands it to a
			// ptrace stop (escalation), which must give r9 back.
			{"fstatat-empty-path-name", SYS_newfstatat, dfd, (long)"f", AT_EMPTY_PATH},
			{"openat-creat-existing", SYS_openat, AT_FDCWD, (long)"owned", O_CREAT | O_RDONLY},
		};
		for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
			struct stat st;
			long ret;
			memset(&st, 0, sizeof st);
			int is_open = cases[c].nr == SYS_openat;
			if (cases[c].nr == SYS_newfstatat)
				ret = probe_syscall(cases[c].nr, cases[c].a0, cases[c].a1, (long)&st, cases[c].a3);
			else if (is_open)
				ret = probe_syscall(cases[c].nr, cases[c].a0, cases[c].a1, cases[c].a3, 0644);
			else
				ret = probe_syscall(cases[c].nr, cases[c].a0, (long)&st, 0, 0);
			if (is_open && ret >= 0)
				close((int)ret);
			char line[256];
			FILE *f = fmemopen(line, sizeof line, "w");
			FILE *out = stdout;
			stdout = f;
			report(cases[c].name, ret, is_open ? NULL : &st);
			fclose(f);
			stdout = out;
			if (i == 0)
				strcpy(last[c], line);
			else if (strcmp(last[c], line) != 0 && bad++ < 10)
				printf("iteration %d differs: %s", i, line);
		}
	}
	struct itimerval off = {0};
	setitimer(ITIMER_REAL, &off, NULL);
	for (int c = 0; c < 12; c++)
		fputs(last[c], stdout);
	// A file created with another fsuid: the notification for openat hands
	// it to a ptrace stop, whose plan records the owner.
	if (mkdir("w", 0777) || chmod("w", 0777)) {
		perror("mkdir w");
		return 1;
	}
	setfsuid(1000);
	long fd = probe_syscall(SYS_openat, AT_FDCWD, (long)"w/new", O_CREAT | O_WRONLY | O_EXCL, 0644);
	report("openat-creat-fsuid-1000", fd, NULL);
	setfsuid(0);
	struct stat st;
	if (fd >= 0)
		close((int)fd);
	report("stat-created", stat("w/new", &st) == 0 ? 0 : -errno, &st);
	printf("iterations-differing %d handler-bad %d handler-ran %s\n", bad, (int)handler_bad,
	       handler_runs > 0 ? "yes" : "no");
	return 0;
}

#else
int main(void) {
	puts("x86-64 only");
	return 0;
}
#endif
