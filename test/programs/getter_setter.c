/*
 * getter_setter: one getter and one setter, then exit.
 *
 * getegid, then setegid to the same id: neither diverges from the real
 * credentials. With the argument "diverge" it then sets its effective uid
 * to 1000 (the emulated credentials differ from the real ones from there
 * on, so a lazy tracer attaches the process during the call) and back.
 * Exit status: 0 if every call succeeded, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	gid_t g = getegid();
	if (setegid(g) != 0) {
		perror("setegid");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "diverge") == 0) {
		if (seteuid(1000) != 0 || geteuid() != 1000) {
			perror("seteuid 1000");
			return 1;
		}
		if (seteuid(0) != 0 || geteuid() != 0) {
			perror("seteuid 0");
			return 1;
		}
	}
	return 0;
}
