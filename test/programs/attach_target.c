/*
 * attach_target: a multi-threaded process to attach to while it is blocked.
 *
 * Threads, all blocked while a tracer attaches:
 *   reader  - read() on a pipe that main writes to at the end;
 *   sleeper - one nanosleep() of 3 s (records whether it was traced by the
 *             end of the sleep), then waits on a barrier;
 *   futex   - raw FUTEX_WAIT on a word main sets at the end;
 *   main    - read() of one line on stdin.
 * It prints "ready" once the threads are blocked. When the line arrives,
 * main waits for the sleeper's nanosleep to end, then calls glibc
 * setgroups({1000}), setresgid(1000,1000,1000), setresuid(1000,1000,1000)
 * (glibc applies them to every thread), wakes the threads, and every thread
 * reports how its blocking call ended (an EINTR would be a disturbance:
 * each call is retried after EINTR and the EINTRs are counted) and its own
 * ids read with raw getresuid/getresgid/getgroups. Output is in a fixed
 * order without pids. Exit status: 0 if the calls succeeded, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLEEP_SEC 3

struct report {
	char how[128];
	unsigned int uid[3], gid[3];
	long ngroups;
	unsigned int groups[8];
};

enum { R_MAIN, R_READER, R_SLEEPER, R_FUTEX, R_N };
static const char *names[R_N] = {"main", "reader", "sleeper", "futex"};
static struct report reports[R_N];
static int pipefd[2];
static int futex_word;
static sem_t sleep_done;
static pthread_barrier_t wake_barrier;

static void ids(struct report *r)
{
	syscall(SYS_getresuid, &r->uid[0], &r->uid[1], &r->uid[2]);
	syscall(SYS_getresgid, &r->gid[0], &r->gid[1], &r->gid[2]);
	r->ngroups = syscall(SYS_getgroups, 8, r->groups);
}

static void *reader(void *arg)
{
	struct report *r = &reports[R_READER];
	int eintr = 0;
	ssize_t n;
	char c;

	(void)arg;
	while ((n = read(pipefd[0], &c, 1)) < 0 && errno == EINTR)
		eintr++;
	if (n == 1)
		snprintf(r->how, sizeof(r->how), "read ok eintr=%d", eintr);
	else
		snprintf(r->how, sizeof(r->how), "read returned %zd (%s) eintr=%d",
			 n, n < 0 ? strerror(errno) : "eof", eintr);
	ids(r);
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* traced reports whether this thread has a tracer now. */
static const char *traced(void)
{
	char line[256];
	const char *res = "unknown";
	FILE *f = fopen("/proc/thread-self/status", "r");

	if (!f)
		return res;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "TracerPid:", 10) == 0)
			res = atoi(line + 10) != 0 ? "yes" : "no";
	fclose(f);
	return res;
}

static void *sleeper(void *arg)
{
	struct report *r = &reports[R_SLEEPER];
	struct timespec req = {SLEEP_SEC, 0}, rem;
	double start = now(), elapsed;
	int eintr = 0, rc;

	(void)arg;
	while ((rc = nanosleep(&req, &rem)) < 0 && errno == EINTR) {
		eintr++;
		req = rem;
	}
	elapsed = now() - start;
	snprintf(r->how, sizeof(r->how), "nanosleep %s eintr=%d full=%s traced=%s",
		 rc == 0 ? "ok" : strerror(errno), eintr,
		 elapsed >= SLEEP_SEC - 0.01 ? "yes" : "no", traced());
	sem_post(&sleep_done);
	pthread_barrier_wait(&wake_barrier);
	ids(r);
	return NULL;
}

static void *futex_waiter(void *arg)
{
	struct report *r = &reports[R_FUTEX];
	int eintr = 0, other = 0;
	long rc;

	(void)arg;
	while (__atomic_load_n(&futex_word, __ATOMIC_ACQUIRE) == 0) {
		rc = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		if (rc < 0 && errno == EINTR)
			eintr++;
		else if (rc < 0 && errno != EAGAIN)
			other = errno;
	}
	snprintf(r->how, sizeof(r->how), "futex %s eintr=%d",
		 other ? strerror(other) : "ok", eintr);
	ids(r);
	return NULL;
}

static int call(const char *name, int rc)
{
	if (rc == 0)
		printf("%s: ok\n", name);
	else
		printf("%s: %s\n", name, strerror(errno));
	return rc == 0;
}

int main(void)
{
	void *(*fns[])(void *) = {reader, sleeper, futex_waiter};
	pthread_t th[3];
	gid_t groups[1] = {1000};
	char line[64];
	ssize_t n;
	int i, ok = 1, eintr = 0;
	long k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(pipefd) < 0) {
		perror("pipe");
		return 2;
	}
	sem_init(&sleep_done, 0, 0);
	pthread_barrier_init(&wake_barrier, NULL, 2);
	for (i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, fns[i], NULL) != 0) {
			perror("pthread_create");
			return 2;
		}
	usleep(100000);
	printf("ready\n");

	while ((n = read(0, line, sizeof(line) - 1)) < 0 && errno == EINTR)
		eintr++;
	if (n > 0)
		snprintf(reports[R_MAIN].how, sizeof(reports[R_MAIN].how),
			 "read ok eintr=%d", eintr);
	else
		snprintf(reports[R_MAIN].how, sizeof(reports[R_MAIN].how),
			 "read returned %zd (%s) eintr=%d", n,
			 n < 0 ? strerror(errno) : "eof", eintr);

	while (sem_wait(&sleep_done) < 0 && errno == EINTR)
		;
	ok &= call("setgroups", setgroups(1, groups));
	ok &= call("setresgid", setresgid(1000, 1000, 1000));
	ok &= call("setresuid", setresuid(1000, 1000, 1000));
	ids(&reports[R_MAIN]);

	if (write(pipefd[1], "x", 1) != 1)
		perror("write");
	__atomic_store_n(&futex_word, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_barrier_wait(&wake_barrier);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);

	for (i = 0; i < R_N; i++) {
		struct report *r = &reports[i];

		printf("%s: %s uid=%u,%u,%u gid=%u,%u,%u groups=", names[i], r->how,
		       r->uid[0], r->uid[1], r->uid[2], r->gid[0], r->gid[1], r->gid[2]);
		if (r->ngroups < 0)
			printf("error");
		for (k = 0; k < r->ngroups && k < 8; k++)
			printf("%s%u", k ? "," : "", r->groups[k]);
		printf("\n");
	}
	return ok ? 0 : 1;
}
