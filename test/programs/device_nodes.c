/*
 * device_nodes: mknod of character and block devices, then chown, chmod
 * and what stat, lstat, fstat (of an O_PATH descriptor, which does not open
 * the device) and statx show of them; mknod as an unprivileged user and as
 * root without CAP_MKNOD (EPERM), and the kernel's own cases (EEXIST, a
 * FIFO). Run in an empty working directory as root; it creates c, b, fifo,
 * pub/ there. Each line is one call and its result, in a fixed order, so
 * that runs as real root and under remainroot can be compared. Nothing is
 * ever opened for reading or writing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static void result(const char *what, int r)
{
	if (r < 0)
		printf("%-28s %s\n", what, strerrorname_np(errno));
	else
		printf("%-28s ok\n", what);
}

static char type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFCHR:
		return 'c';
	case S_IFBLK:
		return 'b';
	case S_IFIFO:
		return 'p';
	case S_IFREG:
		return '-';
	}
	return '?';
}

static void show(const char *what, int r, const struct stat *st)
{
	if (r < 0) {
		result(what, r);
		return;
	}
	printf("%-28s %c %04o %u:%u %u,%u\n", what, type(st->st_mode), st->st_mode & 07777, st->st_uid,
	       st->st_gid, major(st->st_rdev), minor(st->st_rdev));
}

static void stats(const char *name)
{
	struct stat st;
	struct statx stx;
	char what[64];
	int r;

	snprintf(what, sizeof what, "stat %s", name);
	r = stat(name, &st);
	show(what, r, &st);
	snprintf(what, sizeof what, "lstat %s", name);
	r = lstat(name, &st);
	show(what, r, &st);
	int fd = open(name, O_PATH | O_NOFOLLOW);
	snprintf(what, sizeof what, "fstat O_PATH %s", name);
	r = fd < 0 ? fd : fstat(fd, &st);
	show(what, r, &st);
	if (fd >= 0)
		close(fd);
	snprintf(what, sizeof what, "statx %s", name);
	r = statx(AT_FDCWD, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx);
	if (r < 0) {
		result(what, r);
		return;
	}
	printf("%-28s %c %04o %u:%u %u,%u\n", what, type(stx.stx_mode), stx.stx_mode & 07777, stx.stx_uid,
	       stx.stx_gid, stx.stx_rdev_major, stx.stx_rdev_minor);
}

/* in_child runs f in a child process and waits for it. */
static void in_child(void (*f)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		f();
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void as_user(void)
{
	if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) {
		result("become 1000", -1);
		return;
	}
	result("mknod pub/c as 1000", mknod("pub/c", S_IFCHR | 0620, makedev(4, 5)));
	result("mknod pub/fifo as 1000", mknod("pub/fifo", S_IFIFO | 0620, 0));
}

static void without_cap_mknod(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0) {
		result("capget", -1);
		return;
	}
	d[CAP_MKNOD / 32].effective &= ~(1u << (CAP_MKNOD % 32));
	result("drop CAP_MKNOD", syscall(SYS_capset, &h, d));
	result("mknod pub/c2 without it", mknod("pub/c2", S_IFCHR | 0620, makedev(4, 5)));
}

int main(void)
{
	umask(0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	result("mknod c 4,5", mknod("c", S_IFCHR | 0620, makedev(4, 5)));
	stats("c");
	result("chown c 0:5", chown("c", 0, 5));
	result("chmod c 0640", chmod("c", 0640));
	stats("c");
	result("mknod c again", mknod("c", S_IFCHR | 0600, makedev(1, 3)));
	result("mknodat b 8,1", mknodat(AT_FDCWD, "b", S_IFBLK | 0600, makedev(8, 1)));
	stats("b");
	result("chown b 7:7", chown("b", 7, 7));
	stats("b");
	result("chown b 0:0", chown("b", 0, 0));
	stats("b");
	result("mknod fifo", mknod("fifo", S_IFIFO | 0644, 0));
	stats("fifo");
	result("mkdir pub", mkdir("pub", 0777));
	in_child(as_user);
	in_child(without_cap_mknod);
	stats("pub/c");
	result("unlink c", unlink("c"));
	stats("c");
	return 0;
}
