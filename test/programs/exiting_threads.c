/*
 * exiting_threads: threads in emulated calls while the process ends.
 *
 * exiting_threads MODE: starts 4 threads that loop over notified calls with
 * raw system calls (each thread its own credentials): getuid, getgroups,
 * setresuid(-1, -1, -1), and in every other thread an effective uid
 * switched to 1000 and back (credentials that diverge, so a lazy tracer
 * attaches the process while the other threads run).
 *
 *   exit_group    the main thread calls exit(7) after a random delay of up
 *                 to 2 ms: the process ends while threads wait for answers
 *                 (they loop until then). Exit status 7.
 *   pthread_exit  the main thread pthread_exit()s at once; each thread makes
 *                 a random number of calls (up to 200) and pthread_exit()s;
 *                 the last thread's exit ends the process. Exit status 0.
 *   forever       the threads loop until the process is killed (or for
 *                 at most 60 s, then exit 0: a test killed meanwhile
 *                 leaves nothing for long).
 *
 * A failed call prints its name and exits 1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 4

static int forever, exit_group_mode;
static time_t forever_end;

static void fail(const char *what)
{
	perror(what);
	exit(1);
}

static void *worker(void *arg)
{
	long index = (long)arg;
	unsigned int seed = (unsigned int)(getpid() * 31 + index);
	/* exit_group: the threads are still calling when the process ends.
	 * A thread that pthread_exit()s while main's exit() runs can make
	 * glibc abort (its first pthread_exit loads libgcc_s, which exit's
	 * teardown may have gone past): status 134, once in thousands. */
	long calls = forever || exit_group_mode ? -1 : rand_r(&seed) % 200;
	gid_t groups[8];
	for (long i = 0; calls < 0 || i < calls; i++) {
		if (syscall(SYS_getuid) < 0)
			fail("getuid");
		if (syscall(SYS_getgroups, 8, groups) < 0)
			fail("getgroups");
		if (syscall(SYS_setresuid, -1, -1, -1) != 0)
			fail("setresuid(-1, -1, -1)");
		if (forever && (i & 1023) == 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > forever_end)
				exit(0);
		}
		if (index % 2 == 1) {
			if (syscall(SYS_setresuid, -1, 1000, -1) != 0)
				fail("setresuid(-1, 1000, -1)");
			if (syscall(SYS_setresuid, -1, 0, -1) != 0)
				fail("setresuid(-1, 0, -1)");
		}
	}
	pthread_exit(NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: exiting_threads exit_group|pthread_exit|forever\n");
		return 2;
	}
	const char *mode = argv[1];
	forever = strcmp(mode, "forever") == 0;
	exit_group_mode = strcmp(mode, "exit_group") == 0;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	forever_end = start.tv_sec + 60;
	pthread_t threads[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&threads[i], NULL, worker, (void *)i) != 0)
			fail("pthread_create");
	if (strcmp(mode, "exit_group") == 0) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		unsigned int seed = (unsigned int)(now.tv_nsec ^ getpid());
		usleep(rand_r(&seed) % 2000);
		exit(7);
	}
	if (strcmp(mode, "pthread_exit") == 0 || forever)
		pthread_exit(NULL);
	fprintf(stderr, "exiting_threads: unknown mode %s\n", mode);
	return 2;
}
