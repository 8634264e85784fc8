/* Not a workload: the bench starts every timed command through this small
 * program, which forks and execs it and exits with its status.
 *
 * Why: the kernel folds the RSS high-water mark of the image being replaced
 * into ru_maxrss at execve, and Go starts commands with vfork, sharing its
 * own memory. Started straight from the bench, remainroot's
 * getrusage(RUSAGE_SELF) peak would include the bench's own. A real fork
 * from this small process starts the command with a fresh peak. */
#include <errno.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: launch CMD [ARG...]\n");
		return 127;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			return 127;
		}
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "killed by signal %d\n", WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return 127;
}
