/*
 * threaded_setuid: glibc's set*id broadcast across threads.
 *
 * Starts 4 pthreads that block on a barrier, then the main thread calls
 * glibc setgroups({1000}), setresgid(1000,1000,1000) and
 * setresuid(1000,1000,1000). glibc applies each call to every thread by
 * signalling them (SIGSETXID), so each thread's own credentials must change.
 * After the barrier every thread reads its own credentials with raw
 * syscalls (getresuid, getresgid, getgroups), and main prints them in
 * thread order: the output is deterministic and contains no pids.
 * Exit status: 0 if the three calls succeeded, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 4

struct report {
	unsigned int ruid, euid, suid, rgid, egid, sgid;
	long ngroups;
	unsigned int groups[8];
};

static pthread_barrier_t start_barrier, done_barrier;
static struct report reports[NTHREADS + 1];

static void take_report(struct report *r)
{
	syscall(SYS_getresuid, &r->ruid, &r->euid, &r->suid);
	syscall(SYS_getresgid, &r->rgid, &r->egid, &r->sgid);
	r->ngroups = syscall(SYS_getgroups, 8, r->groups);
}

static void *worker(void *arg)
{
	long i = (long)arg;

	pthread_barrier_wait(&start_barrier);
	take_report(&reports[i]);
	pthread_barrier_wait(&done_barrier);
	return NULL;
}

static void print_report(const char *who, const struct report *r)
{
	long i;

	printf("%s: uid=%u,%u,%u gid=%u,%u,%u groups=", who, r->ruid, r->euid,
	       r->suid, r->rgid, r->egid, r->sgid);
	if (r->ngroups < 0)
		printf("error");
	for (i = 0; i < r->ngroups && i < 8; i++)
		printf("%s%u", i ? "," : "", r->groups[i]);
	printf("\n");
}

static int report_call(const char *name, int rc)
{
	if (rc == 0)
		printf("%s: ok\n", name);
	else
		printf("%s: %s\n", name, strerror(errno));
	return rc == 0;
}

int main(void)
{
	pthread_t th[NTHREADS];
	gid_t groups[1] = {1000};
	long i;
	int ok = 1;
	char name[32];

	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_barrier_init(&start_barrier, NULL, NTHREADS + 1);
	pthread_barrier_init(&done_barrier, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) {
			perror("pthread_create");
			return 2;
		}
	/* Give the threads time to block in the barrier's futex wait. */
	usleep(100000);

	ok &= report_call("setgroups", setgroups(1, groups));
	ok &= report_call("setresgid", setresgid(1000, 1000, 1000));
	ok &= report_call("setresuid", setresuid(1000, 1000, 1000));

	pthread_barrier_wait(&start_barrier);
	take_report(&reports[NTHREADS]);
	pthread_barrier_wait(&done_barrier);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);

	print_report("main", &reports[NTHREADS]);
	for (i = 0; i < NTHREADS; i++) {
		snprintf(name, sizeof(name), "thread%ld", i);
		print_report(name, &reports[i]);
	}
	return ok ? 0 : 1;
}
