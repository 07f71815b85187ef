/* SPDX-License-Identifier: MIT */
/* A program with no socket calls, built static and Go-marked by the tests. */
#include <stdio.h>
#include <string.h>

/* "wait": stays alive until stdin closes (attach refuses it meanwhile);
 * "spin": runs user code only, never in a system call, until killed. */
int main(int argc, char **argv)
{
	puts("hello");
	fflush(stdout);
	if (argc > 1 && !strcmp(argv[1], "wait"))
		while (getchar() != EOF)
			;
	if (argc > 1 && !strcmp(argv[1], "spin"))
		for (volatile unsigned long i = 0;; i++)
			;
	return 0;
}
