/* Workload (iv): N pairs of seteuid(42) / seteuid(0) (default 10000), each
 * result checked; geteuid() is checked after the first pair and at the end.
 * Prints "ok N" and exits 0 on success. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	for (int i = 0; i < n; i++) {
		if (seteuid(42) != 0) {
			fprintf(stderr, "pair %d: seteuid(42): %s\n", i, strerror(errno));
			return 1;
		}
		if (i == 0 && geteuid() != 42) {
			fprintf(stderr, "geteuid() = %u after seteuid(42)\n", (unsigned)geteuid());
			return 1;
		}
		if (seteuid(0) != 0) {
			fprintf(stderr, "pair %d: seteuid(0): %s\n", i, strerror(errno));
			return 1;
		}
		if (i == 0 && geteuid() != 0) {
			fprintf(stderr, "geteuid() = %u after seteuid(0)\n", (unsigned)geteuid());
			return 1;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "geteuid() = %u at the end\n", (unsigned)geteuid());
		return 1;
	}
	printf("ok %d\n", n);
	return 0;
}
