#define _GNU_SOURCE
/* Credential calls whose answers the debug log must show: setuid, getuid,
 * capset (allowed, then refused), each result printed as "name result". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

static void report(const char *name, long r) {
	if (r < 0)
		printf("%s -%s\n", name, strerrorname_np(errno));
	else
		printf("%s %ld\n", name, r);
}

int main(void) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct none[2] = {{0}};
	struct __user_cap_data_struct setuid_cap[2] = {{0}};
	setuid_cap[0].effective = setuid_cap[0].permitted = 1u << CAP_SETUID;

	report("setuid", setuid(1000));
	report("getuid", getuid());
	h.version = _LINUX_CAPABILITY_VERSION_3, h.pid = 0;
	report("capset", syscall(SYS_capset, &h, none));
	h.version = _LINUX_CAPABILITY_VERSION_3, h.pid = 0;
	report("capset", syscall(SYS_capset, &h, setuid_cap));
	return 0;
}
