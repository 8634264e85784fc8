/*
 * acl_calls: the POSIX ACL xattr calls with ids a single-id user namespace
 * does not map (uid 1000, gid 4), their error cases, and what getxattr and
 * listxattr then show. Run in an empty working directory; it creates d/,
 * f, link (a symlink to f) there. Each line is one call and its result
 * ("ok", a size, or the errno's name), in a fixed order, so that runs as
 * real root in a fully mapped namespace and under remainroot can be
 * compared. With argument "sizes" the sizes getxattr returns are printed
 * too (they differ where mode creds dropped entries).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#endif

#define ACCESS "system.posix_acl_access"
#define DEFAULT "system.posix_acl_default"

struct xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

static int sizes;

static void put(unsigned char **p, unsigned tag, unsigned perm, uint32_t id)
{
	unsigned char *b = *p;
	b[0] = tag, b[1] = tag >> 8, b[2] = perm, b[3] = perm >> 8;
	b[4] = id, b[5] = id >> 8, b[6] = id >> 16, b[7] = id >> 24;
	*p += 8;
}

/* acl builds u::rwx [u:uid:rwx] g::r-x [g:gid:r-x] [m::rwx] o::r-x. */
static size_t acl(unsigned char *buf, uint32_t version, long uid, long gid, int mask)
{
	unsigned char *p = buf + 4;
	buf[0] = version, buf[1] = buf[2] = buf[3] = 0;
	put(&p, 0x01, 7, -1);
	if (uid >= 0)
		put(&p, 0x02, 7, uid);
	put(&p, 0x04, 5, -1);
	if (gid >= 0)
		put(&p, 0x08, 5, gid);
	if (mask)
		put(&p, 0x10, 7, -1);
	put(&p, 0x20, 5, -1);
	return p - buf;
}

static void report(const char *what, long res)
{
	if (res < 0)
		printf("%-44s %s\n", what, strerrorname_np(errno));
	else if (res > 0 && !sizes)
		printf("%-44s size\n", what);
	else
		printf("%-44s %ld\n", what, res);
}

int main(int argc, char **argv)
{
	unsigned char v[128], small[8];
	void *volatile bad = (void *)8; /* an unmapped page */
	char list[512];
	size_t n;
	sizes = argc > 1 && strcmp(argv[1], "sizes") == 0;
	if (mkdir("d", 0750) || close(open("f", O_CREAT | O_WRONLY, 0640)) || symlink("f", "link")) {
		perror("setup");
		return 1;
	}
	n = acl(v, 2, 1000, 4, 1);
	report("setxattr missing/x access", setxattr("missing/x", ACCESS, v, n, 0));
	report("setxattr missing default", setxattr("missing", DEFAULT, v, n, 0));
	report("setxattr f default (not a directory)", setxattr("f", DEFAULT, v, n, 0));
	report("lsetxattr link access (a symlink)", lsetxattr("link", ACCESS, v, n, 0));
	report("setxattr f access, partial entry", setxattr("f", ACCESS, v, n - 1, 0));
	report("setxattr f access, XATTR_CREATE|REPLACE", setxattr("f", ACCESS, v, n, XATTR_CREATE | XATTR_REPLACE));
	report("setxattr f access, bad value pointer", setxattr("f", ACCESS, bad, n, 0));
	report("setxattr missing, bad value pointer", setxattr("missing", ACCESS, bad, n, 0));
	report("setxattr d access, version 1", setxattr("d", ACCESS, v, acl(v, 1, 1000, 4, 1), 0));
	report("setxattr d access, no mask", setxattr("d", ACCESS, v, acl(v, 2, -1, 4, 0), 0));
	n = acl(v, 2, 1000, 4, 1);
	v[14] = 9; /* u:1000 with perm 9: not rwx bits */
	report("setxattr d access, bad perm", setxattr("d", ACCESS, v, n, 0));
	report("setxattr d access g:4", setxattr("d", ACCESS, v, acl(v, 2, -1, 4, 1), 0));
	report("setxattr d default u:1000 g:4", setxattr("d", DEFAULT, v, acl(v, 2, 1000, 4, 1), 0));
	int fd = open("f", O_RDONLY);
	report("fsetxattr f access u:1000", fsetxattr(fd, ACCESS, v, acl(v, 2, 1000, -1, 1), 0));
	struct xattr_args args = {(uintptr_t)v, acl(v, 2, 1000, 4, 1), 0};
	int dfd = open(".", O_PATH | O_DIRECTORY);
	report("setxattrat . d access u:1000 g:4", syscall(SYS_setxattrat, dfd, "d", 0, ACCESS, &args, sizeof args));
	report("setxattrat . missing access", syscall(SYS_setxattrat, dfd, "missing", 0, ACCESS, &args, sizeof args));
	report("getxattr d access size", getxattr("d", ACCESS, NULL, 0));
	report("getxattr d default size", getxattr("d", DEFAULT, NULL, 0));
	report("getxattr f access size", getxattr("f", ACCESS, NULL, 0));
	report("getxattr f access, 8 bytes", getxattr("f", ACCESS, small, sizeof small));
	report("getxattr f access, bad buffer", getxattr("f", ACCESS, bad, 100));
	report("fgetxattr f access size", fgetxattr(fd, ACCESS, NULL, 0));
	report("getxattr missing access", getxattr("missing", ACCESS, NULL, 0));
	long len = listxattr("d", list, sizeof list);
	report("listxattr d", len);
	for (long i = 0; i < len; i += strlen(list + i) + 1)
		if (strncmp(list + i, "security.", 9) != 0)
			printf("  %s\n", list + i);
	report("removexattr f access", removexattr("f", ACCESS));
	report("getxattr f access after removal", getxattr("f", ACCESS, NULL, 0));
	report("removexattr f access again", removexattr("f", ACCESS));
	report("setxattr d default, empty value", setxattr("d", DEFAULT, "", 0, 0));
	report("getxattr d default after removal", getxattr("d", DEFAULT, NULL, 0));
	return 0;
}
