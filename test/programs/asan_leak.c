/* A leak for LeakSanitizer to find: built with -fsanitize=address, it
 * allocates a block, drops the only pointer to it and returns 0, so that
 * LeakSanitizer's exit check reports "detected memory leaks" (4242 bytes in
 * one object) and changes the exit status. LeakSanitizer stops the process's
 * threads with ptrace (a helper thread attaches to each), so under another
 * tracer it aborts with "LeakSanitizer has encountered a fatal error"
 * instead. The program prints nothing itself: LeakSanitizer exits with
 * _exit, before stdio would flush. */
#include <stdlib.h>
#include <string.h>

/* volatile: the compiler must keep the store and the later clearing. */
void *volatile leaked;

int main(void) {
	leaked = malloc(4242);
	if (leaked == NULL)
		return 2;
	memset(leaked, 'x', 4242);
	leaked = NULL;
	return 0;
}
