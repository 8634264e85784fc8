/*
 * fake_runtime: what a container runtime does for one process when the
 * config names a seccomp listenerPath (runtime-spec "Seccomp"), without the
 * runtime: load a notifying filter for the credential calls, send its
 * listener to the agent with a ContainerProcessState shaped as runc, crun
 * or youki shape theirs, then switch to the process's user as runtimes do
 * (setgroups unless the namespace denies it, setresgid, setresuid with
 * keepcaps) and exec the command.
 *
 * usage: fake_runtime CONFIG SHAPE ID UID:GID[:G1,G2] [--process FILE] -- CMD...
 *   CONFIG  the rewritten config.json (its linux.seccomp.listenerPath)
 *   SHAPE   runc-init crun-init youki-init runc-exec crun-exec youki-exec,
 *           or none: no filter and no agent (the kernel alone)
 *   exec shapes read the container's init pid from $INIT_PID.
 * --process FILE is only carried on the command line, as runtimes' exec
 * commands carry it (the receiver reads the exec's user from it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what) {
	fprintf(stderr, "fake-runtime: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const int notified[] = {
	SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid,
	SYS_setfsuid, SYS_setfsgid, SYS_setgroups, SYS_getuid, SYS_geteuid, SYS_getgid,
	SYS_getegid, SYS_getresuid, SYS_getresgid, SYS_getgroups, SYS_capget, SYS_capset,
};
#define NNOTIFIED (int)(sizeof notified / sizeof notified[0])

static int load_filter(void) {
	struct sock_filter f[4 + NNOTIFIED + 2];
	int n = 0;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (int i = 0; i < NNOTIFIED; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, notified[i],
						      NNOTIFIED - i, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	struct sock_fprog prog = {.len = n, .filter = f};
	int fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		die("seccomp");
	return fd;
}

static char *listener_path(const char *config) {
	static char buf[1 << 20];
	int fd = open(config, O_RDONLY);
	if (fd < 0)
		die(config);
	ssize_t len = read(fd, buf, sizeof buf - 1);
	if (len < 0)
		die("read config");
	buf[len] = 0;
	close(fd);
	char *p = strstr(buf, "\"listenerPath\":\"");
	if (!p) {
		fprintf(stderr, "fake-runtime: no listenerPath in %s\n", config);
		exit(1);
	}
	p += strlen("\"listenerPath\":\"");
	*strchr(p, '"') = 0;
	return p;
}

static void send_listener(const char *socket_path, int listener, const char *shape, const char *id) {
	int self = getpid(), init = self, pid = self;
	const char *status = "creating", *version = "1.0.2-dev", *extra = "";
	if (strstr(shape, "-exec")) {
		const char *e = getenv("INIT_PID");
		init = e ? atoi(e) : 0;
		status = "running";
	}
	if (!strncmp(shape, "crun", 4)) {
		version = "1.0.0";
		if (strstr(shape, "-init"))
			status = "created";
		else
			pid = init = 0; /* crun 1.8 names no process for an exec */
	}
	if (!strncmp(shape, "youki", 5)) {
		version = "1.2.0";
		extra = ",\"created\":\"2026-01-01T00:00:00Z\"";
	}
	char msg[4096];
	int len = snprintf(msg, sizeof msg,
			   "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"\","
			   "\"state\":{\"ociVersion\":\"%s\",\"id\":\"%s\",\"status\":\"%s\",\"pid\":%d,"
			   "\"bundle\":\"/nonexistent\",\"annotations\":{\"io.remainroot.mode\":\"creds\"}%s}}",
			   version, pid, version, id, status, init, extra);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strncpy(addr.sun_path, socket_path, sizeof addr.sun_path - 1);
	if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0)
		die("connect to the seccomp agent");
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener, sizeof(int));
	if (sendmsg(s, &mh, 0) != len)
		die("send to the seccomp agent");
	close(s);
	close(listener);
}

static int setgroups_denied(void) {
	char buf[16] = {0};
	int fd = open("/proc/self/setgroups", O_RDONLY);
	if (fd < 0)
		return 0;
	read(fd, buf, sizeof buf - 1);
	close(fd);
	return !strncmp(buf, "deny", 4);
}

int main(int argc, char **argv) {
	if (argc < 6) {
		fprintf(stderr, "usage: fake_runtime CONFIG SHAPE ID UID:GID[:GROUPS] [--process FILE] -- CMD...\n");
		return 2;
	}
	const char *config = argv[1], *shape = argv[2], *id = argv[3];
	unsigned uid, gid;
	gid_t groups[64];
	int ngroups = 0;
	char *spec = strdup(argv[4]);
	char *g = strchr(spec, ':');
	if (!g)
		return 2;
	uid = strtoul(spec, NULL, 10);
	gid = strtoul(g + 1, &g, 10);
	if (*g == ':')
		for (char *t = strtok(g + 1, ","); t && ngroups < 64; t = strtok(NULL, ","))
			groups[ngroups++] = strtoul(t, NULL, 10);
	int i = 5;
	while (i < argc && strcmp(argv[i], "--"))
		i++;
	if (i + 1 >= argc)
		return 2;
	if (strcmp(shape, "none"))
		send_listener(listener_path(config), load_filter(), shape, id);
	if (!setgroups_denied() && setgroups(ngroups, groups) < 0)
		die("setgroups");
	if (prctl(PR_SET_KEEPCAPS, 1) < 0)
		die("prctl keepcaps");
	if (setresgid(gid, gid, gid) < 0)
		die("setresgid");
	if (setresuid(uid, uid, uid) < 0)
		die("setresuid");
	if (prctl(PR_SET_KEEPCAPS, 0) < 0)
		die("prctl keepcaps");
	execvp(argv[i + 1], argv + i + 1);
	die(argv[i + 1]);
}
