/* Workload (iii): seteuid(42) once, then N x (getuid() + getresuid()) through
 * glibc (default 20000). Every result is checked: the real and saved uids stay
 * 0 and the effective uid is 42. Prints "ok N" and exits 0 on success. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	if (seteuid(42) != 0) {
		fprintf(stderr, "seteuid(42): %s\n", strerror(errno));
		return 1;
	}
	if (geteuid() != 42) {
		fprintf(stderr, "geteuid() = %u after seteuid(42)\n", (unsigned)geteuid());
		return 1;
	}
	for (int i = 0; i < n; i++) {
		uid_t r, e, s;
		uid_t u = getuid();
		if (getresuid(&r, &e, &s) != 0) {
			fprintf(stderr, "getresuid: %s\n", strerror(errno));
			return 1;
		}
		if (u != 0 || r != 0 || e != 42 || s != 0) {
			fprintf(stderr, "iteration %d: getuid=%u getresuid=%u,%u,%u\n",
				i, (unsigned)u, (unsigned)r, (unsigned)e, (unsigned)s);
			return 1;
		}
	}
	printf("ok %d\n", n);
	return 0;
}
