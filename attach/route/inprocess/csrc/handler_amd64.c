/*
 * The in-process route's SIGSYS handler, x86-64 (package inprocess).
 *
 * Built freestanding (no libc, no relocations: everything is reached
 * RIP-relative or through the data page's fixed address) and linked by
 * handler.ld into one flat blob that the tracer maps at HandlerAddr. The
 * bytes in handler_amd64.go are what this source builds to
 * (TestHandlerBytesMatchSource).
 *
 * The layer's filter traps a call of the table (SECCOMP_RET_TRAP | RRDATA)
 * unless it comes from this blob. The kernel skips the call and delivers
 * SIGSYS here, with the call's number in the siginfo and its arguments in
 * the saved registers; what this handler leaves in the saved rax is the
 * call's result when the thread goes on after its syscall instruction.
 *
 * It does what a fused plan of mode full does (package shim, statPlan): read
 * the object's owner record, make the call, look the inode up in the image
 * filter. Anything but the commonest outcome (no record, no special file,
 * not in the filter) it does not decide: it makes the call again from
 * rr_ask, which the filter sends to the supervisor as a notification, and
 * the supervisor answers it as it answers any (shim.Emulate).
 */

typedef unsigned long u64;
typedef long s64;
typedef unsigned int u32;
typedef int s32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef signed char s8;

#define DATA_ADDR 0x3e3f00001000 /* inprocess.DataAddr */
#define DATA_VERSION 1              /* inprocess.dataVersion */
#define RRDATA 0x5252               /* inprocess.TrapData */

#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_getpid 39
#define SYS_getxattr 191
#define SYS_lgetxattr 192
#define SYS_fgetxattr 193
#define SYS_gettid 186
#define SYS_tgkill 234
#define SYS_getxattrat 464
#define SYS_process_vm_readv 310
#define SYS_process_vm_writev 311

#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_EMPTY_PATH 0x1000
#define SIGSYS 31
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SA_SIGINFO 4
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SIG_IGN 1
/* the signals no mask holds: SIGKILL, SIGSTOP, and SIGSYS, whose block
 * makes the kernel kill the process at the layer's trap */
#define UNBLOCKABLE ((1UL << (9 - 1)) | (1UL << (19 - 1)) | (1UL << (SIGSYS - 1)))
#define SYS_SECCOMP 1
#define ENOENT 2
#define EBADF 9
#define EFAULT 14
#define ERANGE 34
#define ENOSYS 38
#define EINVAL 22
#define EPERM 1
#define ENAMETOOLONG 36
#define PATH_MAX 4096

#define S_IFMT 0170000
#define S_IFREG 0100000
#define S_IFDIR 0040000

/* siginfo_t and ucontext_t, x86-64 */
#define SI_ERRNO 4
#define SI_CODE 8
#define SI_SYSCALL 24
#define SI_ARCH 28
#define UC_GREGS 40
#define UC_SIGMASK 296
enum { REG_R8 = 0, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
       REG_RDI, REG_RSI, REG_RBP, REG_RBX, REG_RDX, REG_RAX, REG_RCX, REG_RSP, REG_RIP };

#define KIND_STAT 1       /* inprocess.kindStat */
#define KIND_SIGACTION 2  /* inprocess.kindSigaction: rt_sigaction */
#define KIND_SIGPROCMASK 3 /* inprocess.kindSigprocmask: rt_sigprocmask */
#define KIND_MASK_ARG 4   /* inprocess.kindMaskArg: a temporary mask in argument buf */
#define KIND_PSELECT 5    /* inprocess.kindPselect: pselect6's mask, behind argument buf */
#define ARG_NONE 0xff

/* One call of the table: where its operands are (inprocess.template). */
struct tmpl {
	s32 nr;
	u8 kind;
	u8 dfd, path, flags, buf; /* argument index, ARG_NONE: the fixed value */
	u8 pad[3];
	u32 fixed_flags;          /* the flags when flags is ARG_NONE */
	u16 ino_off, mode_off;    /* in the result buffer */
	u16 uid_off, gid_off;
};

#define TEMPLATES 16
#define VALUE_MAX 64

/* The data page (inprocess.data). */
struct data {
	u64 version;
	u64 templates;
	struct tmpl tmpl[TEMPLATES];
	char name[32];    /* the owner xattr's name */
	char empty[8];    /* "" */
	u64 filter_addr;  /* the image filter (0: none, every stat asks) ... */
	u64 filter_shift; /* ... and its shift */
	u64 filter_all;   /* 1: every object may have an owner from its image */
	u64 special;      /* 1: special files have owners in the table */
	u64 fast, asked;  /* counters: calls answered here, calls asked */
	u64 no_getxattrat; /* set by the handler at its first ENOSYS */
	u64 prog_action[4]; /* the program's own SIGSYS action (struct
	                     * kernel_sigaction: handler, flags, restorer,
	                     * mask), 0: SIG_DFL */
	char node_name[32]; /* the device node record's xattr name */
};

/* The layout inprocess.Data writes (TestDataLayoutMatchesSource). */
_Static_assert(sizeof(struct tmpl) == 24, "tmpl");
_Static_assert(__builtin_offsetof(struct tmpl, fixed_flags) == 12, "tmpl.fixed_flags");
_Static_assert(__builtin_offsetof(struct tmpl, ino_off) == 16, "tmpl.ino_off");
_Static_assert(__builtin_offsetof(struct tmpl, uid_off) == 20, "tmpl.uid_off");
_Static_assert(__builtin_offsetof(struct data, tmpl) == 16, "data.tmpl");
_Static_assert(__builtin_offsetof(struct data, name) == 400, "data.name");
_Static_assert(__builtin_offsetof(struct data, empty) == 432, "data.empty");
_Static_assert(__builtin_offsetof(struct data, filter_addr) == 440, "data.filter_addr");
_Static_assert(__builtin_offsetof(struct data, filter_shift) == 448, "data.filter_shift");
_Static_assert(__builtin_offsetof(struct data, filter_all) == 456, "data.filter_all");
_Static_assert(__builtin_offsetof(struct data, special) == 464, "data.special");
_Static_assert(__builtin_offsetof(struct data, fast) == 472, "data.fast");
_Static_assert(__builtin_offsetof(struct data, asked) == 480, "data.asked");
_Static_assert(__builtin_offsetof(struct data, no_getxattrat) == 488, "data.no_getxattrat");
_Static_assert(__builtin_offsetof(struct data, prog_action) == 496, "data.prog_action");
_Static_assert(__builtin_offsetof(struct data, node_name) == 528, "data.node_name");

#define D ((struct data *)DATA_ADDR)

static inline s64 sys6(s64 nr, u64 a, u64 b, u64 c, u64 d, u64 e, u64 f)
{
	register u64 r10 __asm__("r10") = d;
	register u64 r8 __asm__("r8") = e;
	register u64 r9 __asm__("r9") = f;
	s64 ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* rr_ask, rr_restorer and rr_entry (the handler's sa_handler), first in
 * the blob (handler.ld), at addresses the tracer and the filter know: the
 * filter knows rr_ask's syscall instruction by its address. */
__asm__(".pushsection .text.entry,\"ax\"\n"
	".globl rr_ask\n"
	"rr_ask:\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	mov %rcx, %rdx\n"
	"	mov %r8, %r10\n"
	"	mov %r9, %r8\n"
	"	mov 8(%rsp), %r9\n"
	"	syscall\n"
	".globl rr_ask_return\n"
	"rr_ask_return:\n"
	"	ret\n"
	".globl rr_restorer\n"
	"rr_restorer:\n"
	"	mov $15, %eax\n"
	"	syscall\n"
	"	ud2\n"
	".globl rr_entry\n"
	"rr_entry:\n"
	"	jmp rr_sigsys\n"
	".popsection\n");

__attribute__((visibility("hidden"))) s64 rr_ask(s64 nr, u64 a, u64 b, u64 c, u64 d, u64 e, u64 f);

static const struct tmpl *find(s64 nr)
{
	u64 n = D->templates;
	if (n > TEMPLATES)
		n = TEMPLATES;
	for (u64 i = 0; i < n; i++)
		if (D->tmpl[i].nr == nr)
			return &D->tmpl[i];
	return 0;
}

static u64 operand(const u64 *args, u8 i, u64 fixed)
{
	return i == ARG_NONE ? fixed : args[i];
}

/* mayHaveImageOwner is the image filter's lookup (stub.Filter.Maybe). */
static int may_have_image_owner(u64 ino)
{
	if (D->filter_all)
		return 1;
	if (!D->filter_addr)
		return 0;
	u64 i = (ino * 0x9e3779b97f4a7c15UL) >> D->filter_shift;
	return (((const u8 *)D->filter_addr)[i / 8] >> (i % 8)) & 1;
}

#define ASK (-4097L) /* no call returns it: below every -errno, no address */

/* fd_path writes "/proc/self/fd/N" to p (room for 32 bytes) and returns
 * its length; -1 for a negative fd. */
static int fd_path(char *p, s32 fd)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	int n = 0, i = 0;
	if (fd < 0)
		return -1;
	for (; prefix[i]; i++)
		p[i] = prefix[i];
	do {
		digits[n++] = '0' + fd % 10;
		fd /= 10;
	} while (fd);
	while (n)
		p[i++] = digits[--n];
	p[i] = 0;
	return i;
}

/* via_proc reads the record of path relative to directory fd through
 * "/proc/self/fd/FD/PATH" (shim's xattrStep without getxattrat); its own
 * frame, for the long path, only when it is needed. */
static __attribute__((noinline)) s64 via_proc(s32 fd, const char *path, int nofollow, const char *name,
						      char *value)
{
	char p[PATH_MAX];
	int i = fd_path(p, fd);
	if (i < 0)
		return -EBADF;
	p[i++] = '/';
	for (; *path; path++) {
		if (i >= PATH_MAX - 1)
			return -ENAMETOOLONG;
		p[i++] = *path;
	}
	p[i] = 0;
	return sys6(nofollow ? SYS_lgetxattr : SYS_getxattr, (u64)p, (u64)name, (u64)value, VALUE_MAX, 0, 0);
}

/* owner_record reads the owner record of what (dfd, path, flags) names
 * into value with the classic xattr calls, as shim's getOwnerStep does
 * where getxattrat is missing or refuses the descriptor: by path, by
 * descriptor, or through /proc/self/fd. It returns the value's length or
 * -errno. The caller has made the call itself, so path can be read. */
static s64 owner_record(u64 dfd, const char *path, u64 flags, const char *name, char *value)
{
	int nofollow = (flags & AT_SYMLINK_NOFOLLOW) != 0;
	if (path[0] == 0) {
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		if ((s32)dfd == AT_FDCWD)
			return sys6(SYS_getxattr, (u64)".", (u64)name, (u64)value, VALUE_MAX, 0, 0);
		s64 r = sys6(SYS_fgetxattr, dfd, (u64)name, (u64)value, VALUE_MAX, 0, 0);
		if (r != -EBADF)
			return r;
		/* A descriptor the xattr calls refuse (O_PATH). */
		char p[32];
		if (fd_path(p, (s32)dfd) < 0)
			return -EBADF;
		return sys6(SYS_getxattr, (u64)p, (u64)name, (u64)value, VALUE_MAX, 0, 0);
	}
	if (path[0] == '/' || (s32)dfd == AT_FDCWD)
		return sys6(nofollow ? SYS_lgetxattr : SYS_getxattr, (u64)path, (u64)name, (u64)value, VALUE_MAX, 0, 0);
	return via_proc((s32)dfd, path, nofollow, name, value);
}

/* decode_owner parses an owner record (a protobuf Resource { uint32 uid
 * = 1; uint32 gid = 2; }, shim.DecodeOwner) of n bytes into ids. It
 * returns 0, or -1 for anything but those two varint fields (unknown or
 * malformed fields: the model decides, and logs). */
static int decode_owner(const u8 *b, s64 n, u32 *ids)
{
	ids[0] = ids[1] = 0;
	s64 i = 0;
	while (i < n) {
		u8 key = b[i++];
		if (key != 0x08 && key != 0x10)
			return -1;
		u64 v = 0;
		int shift = 0;
		for (;;) {
			if (i >= n || shift > 63)
				return -1;
			u8 c = b[i++];
			if (shift == 63 && c > 1)
				return -1;
			v |= (u64)(c & 0x7f) << shift;
			if (!(c & 0x80))
				break;
			shift += 7;
		}
		u32 id = (u32)v;
		ids[key == 0x10] = id == 0xffffffff ? 0 : id; /* NoID: unchanged */
	}
	return 0;
}

/* lookup reads xattr name of what (dfd, path, flags) names into value:
 * getxattrat where the kernel and the profile have it, else the classic
 * calls (owner_record), which read the path here, so the call comes first
 * (*made: its result, ASK while not made) and a call that fails ends the
 * lookup (-EBADF: no record, the call's error stands). */
static s64 lookup(const struct tmpl *t, const u64 *a, u64 dfd, u64 path, u64 flags, const char *name,
		  char *value, s64 *made)
{
	s64 r = -ENOSYS;
	if (!D->no_getxattrat) {
		struct {
			u64 value;
			u32 size;
			u32 flags;
		} xa = {(u64)value, VALUE_MAX, 0};
		r = sys6(SYS_getxattrat, dfd, path, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH),
			 (u64)name, (u64)&xa, sizeof xa);
		if (r == -ENOSYS) /* the kernel's or the container's profile's */
			D->no_getxattrat = 1;
	}
	if (r == -ENOSYS || r == -EBADF) {
		if (*made == ASK)
			*made = sys6(t->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (*made != 0)
			return -EBADF;
		r = owner_record(dfd, (const char *)path, flags, name, value);
	}
	return r;
}

static s64 stat_call(const struct tmpl *t, const u64 *a)
{
	u64 dfd = operand(a, t->dfd, (u64)(s64)AT_FDCWD);
	u64 path = operand(a, t->path, (u64)D->empty);
	u64 flags = operand(a, t->flags, t->fixed_flags);
	u64 buf = a[t->buf];
	char value[VALUE_MAX];
	s64 res = ASK; /* the call, not made yet */
	u32 ids[2];
	int found = 0;

	if (!path) {
		/* No path: a descriptor's object with AT_EMPTY_PATH (Linux
		 * 6.11), else the kernel's EFAULT (shim: the call as it is). */
		if (!(flags & AT_EMPTY_PATH))
			return sys6(t->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		path = (u64)D->empty;
	}
	s64 r = lookup(t, a, dfd, path, flags, D->name, value, &res);
	if (res != ASK && res != 0)
		return res; /* the call, made first, failed */
	if (r == -ERANGE)
		return ASK; /* a record too long for one: the model looks */
	if (r > 0) {
		/* A record: decoded here when it is the usual two ids (an
		 * empty one is none: shim's ownerFromXattr). */
		if (decode_owner((const u8 *)value, r, ids))
			return ASK;
		found = 1;
		/* An object with an owner record may have a device node
		 * record too (full_node.go), which the model shows. */
		s64 node = lookup(t, a, dfd, path, flags, D->node_name, value, &res);
		if (res != ASK && res != 0)
			return res;
		if (node >= 0 || node == -ERANGE)
			return ASK;
	}
	/* Any other error: no record (shim's ownerFromXattr), and the call
	 * itself gives its own error. */
	if (res == ASK)
		res = sys6(t->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (res != 0)
		return res;
	u32 type = *(const volatile u16 *)(buf + t->mode_off) & S_IFMT;
	if (found && (type == S_IFREG || type == S_IFDIR)) {
		/* shim's patch: the record of what can hold one. */
		*(volatile u32 *)(buf + t->uid_off) = ids[0];
		*(volatile u32 *)(buf + t->gid_off) = ids[1];
		return 0;
	}
	if (found || (D->special && type != S_IFREG && type != S_IFDIR))
		return ASK;
	if (may_have_image_owner(*(const volatile u64 *)(buf + t->ino_off)))
		return ASK;
	return 0;
}

/* copy_mem copies n bytes between the process's own addresses through
 * process_vm_readv (write: process_vm_writev), which fails with EFAULT
 * where the kernel's copy of the call would, where a plain copy would
 * fault in the handler; without them (a profile that refuses them), a
 * plain copy. */
static s64 copy_mem(void *to, const void *from, u64 n, int write)
{
	struct {
		u64 base, len;
	} local = {(u64)(write ? from : to), n}, remote = {(u64)(write ? to : from), n};
	s64 r = sys6(write ? SYS_process_vm_writev : SYS_process_vm_readv, sys6(SYS_getpid, 0, 0, 0, 0, 0, 0),
		     (u64)&local, 1, (u64)&remote, 1, 0);
	if (r == (s64)n)
		return 0;
	if (r != -ENOSYS && r != -EPERM)
		return r < 0 ? r : -EFAULT;
	for (u64 i = 0; i < n; i++)
		((volatile u8 *)to)[i] = ((const volatile u8 *)from)[i];
	return 0;
}

/* sigaction_call: rt_sigaction(sig, act, oact, size). The program's own
 * SIGSYS action is kept in the data page and never given to the kernel
 * (the handler stays SIGSYS's); every other action runs with SIGSYS out
 * of its mask (a handler with a full mask would otherwise get the process
 * killed by its first trapped call). */
static s64 sigaction_call(const u64 *a)
{
	s32 sig = (s32)a[0];
	u64 act[4];
	if (a[3] != 8)
		return -EINVAL;
	if (sig == SIGSYS) {
		if (a[1]) {
			s64 r = copy_mem(act, (const void *)a[1], sizeof act, 0);
			if (r)
				return r;
		}
		if (a[2]) {
			s64 r = copy_mem((void *)a[2], D->prog_action, sizeof act, 1);
			if (r)
				return r;
		}
		if (a[1]) {
			act[3] &= ~UNBLOCKABLE;
			for (int i = 0; i < 4; i++)
				D->prog_action[i] = act[i];
		}
		return 0;
	}
	if (!a[1])
		return sys6(SYS_rt_sigaction, a[0], 0, a[2], a[3], 0, 0);
	s64 r = copy_mem(act, (const void *)a[1], sizeof act, 0);
	if (r)
		return r;
	act[3] &= ~(1UL << (SIGSYS - 1));
	return sys6(SYS_rt_sigaction, a[0], (u64)act, a[2], a[3], 0, 0);
}

/* sigprocmask_call: rt_sigprocmask(how, set, oset, size), made on the
 * mask the thread goes back to when the handler returns (the signal
 * frame's), which never holds SIGSYS. */
static s64 sigprocmask_call(const u64 *a, u64 *mask)
{
	u64 set = 0, old = *mask;
	if (a[3] != 8)
		return -EINVAL;
	if (a[1]) {
		s64 r = copy_mem(&set, (const void *)a[1], 8, 0);
		if (r)
			return r;
		switch (a[0]) {
		case SIG_BLOCK:
			set |= old;
			break;
		case SIG_UNBLOCK:
			set = old & ~set;
			break;
		case SIG_SETMASK:
			break;
		default:
			return -EINVAL;
		}
	}
	if (a[2]) {
		s64 r = copy_mem((void *)a[2], &old, 8, 1);
		if (r)
			return r;
	}
	if (a[1])
		*mask = set & ~UNBLOCKABLE;
	return 0;
}

/* mask_arg_call: a call that blocks with a temporary mask (rt_sigsuspend,
 * ppoll, epoll_pwait, epoll_pwait2, or pselect6's, behind its sixth
 * argument), made from here with SIGSYS out of a copy of the mask. */
static s64 mask_arg_call(const struct tmpl *t, u64 nr, const u64 *a)
{
	u64 b[6] = {a[0], a[1], a[2], a[3], a[4], a[5]};
	u64 mask;
	struct {
		u64 set, size;
	} ps;
	if (t->kind == KIND_PSELECT) {
		s64 r = copy_mem(&ps, (const void *)a[t->buf], sizeof ps, 0);
		if (r)
			return r;
		if (ps.set) {
			if (ps.size != 8)
				return -EINVAL;
			if ((r = copy_mem(&mask, (const void *)ps.set, 8, 0)))
				return r;
			mask &= ~(1UL << (SIGSYS - 1));
			ps.set = (u64)&mask;
		}
		b[t->buf] = (u64)&ps;
	} else if (a[t->buf]) {
		s64 r = copy_mem(&mask, (const void *)a[t->buf], 8, 0);
		if (r)
			return r;
		mask &= ~(1UL << (SIGSYS - 1));
		b[t->buf] = (u64)&mask;
	}
	return sys6(nr, b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* not_ours: a SIGSYS that is not the layer's trap (the program's own
 * seccomp filter's, or one sent to it) goes to the program's own action
 * as the kernel would deliver it: ignored, its handler (with its mask,
 * once if SA_RESETHAND), or the default action, which ends the process. */
static void not_ours(int sig, const void *info, void *uc)
{
	u64 *act = D->prog_action;
	if (act[0] == SIG_IGN)
		return;
	if (act[0] == 0) {
		u64 dfl[4] = {0, 0, 0, 0};
		sys6(SYS_rt_sigaction, SIGSYS, (u64)dfl, 0, 8, 0, 0);
		sys6(SYS_tgkill, sys6(SYS_getpid, 0, 0, 0, 0, 0, 0), sys6(SYS_gettid, 0, 0, 0, 0, 0, 0), SIGSYS, 0, 0, 0);
		return;
	}
	u64 handler = act[0], flags = act[1];
	u64 mask = act[3], old;
	if (!(flags & SA_NODEFER))
		mask |= 1UL << (SIGSYS - 1);
	mask &= ~UNBLOCKABLE; /* SIGSYS stays deliverable to the handler */
	if (flags & SA_RESETHAND)
		act[0] = act[1] = act[2] = act[3] = 0;
	sys6(SYS_rt_sigprocmask, SIG_BLOCK, (u64)&mask, (u64)&old, 8, 0, 0);
	if (flags & SA_SIGINFO)
		((void (*)(int, const void *, void *))handler)(sig, info, uc);
	else
		((void (*)(int))handler)(sig);
	sys6(SYS_rt_sigprocmask, SIG_SETMASK, (u64)&old, 0, 8, 0, 0);
}

void rr_sigsys(int sig, const void *info, void *uc)
{
	const u8 *si = info;
	u64 *g = (u64 *)((u8 *)uc + UC_GREGS);
	if (*(const s32 *)(si + SI_CODE) != SYS_SECCOMP || *(const s32 *)(si + SI_ERRNO) != RRDATA ||
	    D->version != DATA_VERSION) {
		not_ours(sig, info, uc);
		return;
	}
	s64 nr = *(const s32 *)(si + SI_SYSCALL);
	u64 a[6] = {g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9]};
	const struct tmpl *t = find(nr);
	s64 res = ASK;
	if (t) {
		switch (t->kind) {
		case KIND_STAT:
			res = stat_call(t, a);
			break;
		case KIND_SIGACTION:
			res = sigaction_call(a);
			break;
		case KIND_SIGPROCMASK:
			res = sigprocmask_call(a, (u64 *)((u8 *)uc + UC_SIGMASK));
			break;
		case KIND_MASK_ARG:
		case KIND_PSELECT:
			res = mask_arg_call(t, nr, a);
			break;
		}
	}
	if (res == ASK) {
		__atomic_add_fetch(&D->asked, 1, __ATOMIC_RELAXED);
		res = rr_ask(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	} else {
		__atomic_add_fetch(&D->fast, 1, __ATOMIC_RELAXED);
	}
	g[REG_RAX] = (u64)res;
}
