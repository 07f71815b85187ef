/* SPDX-License-Identifier: MIT */
/* Wrappers for fork (the parent records the child's pid) and vfork. */
#define _GNU_SOURCE
#include <unistd.h>

#include "wrap.h"

/*
 * The child's own trace file is made by the pthread_atfork handler (which
 * also runs for forks inside libc, e.g. daemon()); this wrapper only adds
 * the parent's record, so the viewer knows when the child got its copies
 * of the parent's sockets.  The child (RET 0) records nothing.  Nor does
 * a parent that has recorded nothing yet: it has no socket the viewer
 * knows, and a process that only forks (timeout, a shell) gets no file.
 */
static inline void rec_fork(struct st__call *c, pid_t ret, int e)
{
	struct st_rec *r = ret != 0 && st__writer_has_file()
				   ? st__rec(c, ST_CALL_fork, ret, e)
				   : NULL;

	if (r)
		st__publish(c, r);
}

/* fork(2), recorded in the parent with the child's pid. */
ST_EXPORT(fork) pid_t fork(void)
{
	ST_WRAP(st__enter(&c), fork, (), rec_fork(&c, ret, e));
}

#ifdef __x86_64__
/* The failed vfork's errno, set from C: the asm below tail-calls it. */
__attribute__((used)) static long vfork_failed(long ret)
{
	errno = (int)-ret;
	return -1;
}

/*
 * vfork cannot be a C wrapper: the child runs on the parent's stack, and
 * a C frame of ours would be clobbered by the child before the parent
 * returns through it.  So it is the system call itself, with the return
 * address kept in a register across it (the child's pushes overwrite the
 * stack slot), and one flag set on the way out: st__vforked is the
 * calling thread's, which the child shares, so the parent clears it when
 * it resumes.  Nothing is recorded for vfork; the exec'd image traces
 * itself.
 */
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	popq %rdi\n"	  /* the return address */
	"	movl $58, %eax\n" /* SYS_vfork */
	"	syscall\n"
	"	pushq %rdi\n"
	"	movq st__vforked@gottpoff(%rip), %rcx\n"
	"	cmpq $-4095, %rax\n"
	"	jae 2f\n"
	"	testq %rax, %rax\n"
	"	jnz 1f\n"
	"	movl $1, %fs:(%rcx)\n" /* the child */
	"	ret\n"
	"1:	movl $0, %fs:(%rcx)\n" /* the parent, resumed */
	"	ret\n"
	"2:	movq %rax, %rdi\n"
	"	jmp vfork_failed\n"
	".size vfork, .-vfork\n");
#endif
