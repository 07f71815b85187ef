/* SPDX-License-Identifier: MIT */
/* A program with no socket calls, built static and Go-marked by the tests. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}
