/* SPDX-License-Identifier: MIT */
/* run --ptrace --data: the data calls on sockets, recorded at their exit. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "ptrace_query.h"

bool st_pdata_call(long nr)
{
	switch (nr) {
	case SYS_read:
	case SYS_write:
	case SYS_readv:
	case SYS_writev:
	case SYS_recvfrom:
	case SYS_sendto:
	case SYS_recvmsg:
	case SYS_sendmsg:
	case SYS_sendfile:
	case SYS_recvmmsg:
	case SYS_sendmmsg:
		return true;
	default:
		return false;
	}
}

/* The bytes CNT iovecs at AT in task TID ask for (the first 64). */
static uint64_t iov_len(pid_t tid, unsigned long at, unsigned long cnt)
{
	struct iovec v[64];
	uint64_t n = 0;

	if (cnt > 64)
		cnt = 64;
	if (!cnt || !st_pq_read(tid, at, v, cnt * sizeof(v[0])))
		return 0;
	for (unsigned long i = 0; i < cnt; i++)
		n += v[i].iov_len;
	return n;
}

/* The bytes the msghdr at AT in task TID asks for. */
static uint64_t msg_len(pid_t tid, unsigned long at)
{
	struct msghdr m;

	if (!st_pq_read(tid, at, &m, sizeof(m)))
		return 0;
	return iov_len(tid, (unsigned long)m.msg_iov, m.msg_iovlen);
}

/* The call kind of data call NR. */
static enum st_call kind(long nr)
{
	switch (nr) {
	case SYS_read:
		return ST_CALL_read;
	case SYS_write:
		return ST_CALL_write;
	case SYS_readv:
		return ST_CALL_readv;
	case SYS_writev:
		return ST_CALL_writev;
	case SYS_recvfrom:
		return ST_CALL_recvfrom;
	case SYS_sendto:
		return ST_CALL_sendto;
	case SYS_recvmsg:
		return ST_CALL_recvmsg;
	case SYS_sendmsg:
		return ST_CALL_sendmsg;
	case SYS_sendfile:
		return ST_CALL_sendfile;
	case SYS_recvmmsg:
		return ST_CALL_recvmmsg;
	default:
		return ST_CALL_sendmmsg;
	}
}

/* recvmmsg, sendmmsg: the bytes of the first RET entries of the VLEN
 * at AT (msg_len, which the kernel wrote). */
static uint64_t mmsg_moved(pid_t tid, unsigned long at, long ret)
{
	uint64_t moved = 0;

	for (long i = 0; i < ret && i < 1024; i++) {
		struct mmsghdr m;
		if (!st_pq_read(tid, at + (unsigned long)i * sizeof(m), &m,
				sizeof(m)))
			break;
		moved += m.msg_len;
	}
	return moved;
}

void st_pdata_record(struct st_rec *r, pid_t tid, long nr,
		     const unsigned long *a, long ret)
{
	r->call = (uint16_t)kind(nr);
	switch (nr) {
	case SYS_read:
	case SYS_write:
		r->u.data.asked = a[2];
		break;
	case SYS_readv:
	case SYS_writev:
		r->u.data.asked = iov_len(tid, a[1], a[2]);
		break;
	case SYS_recvfrom:
	case SYS_sendto: {
		r->u.data.asked = a[2];
		r->u.data.flags = (int32_t)a[3];
		socklen_t len = (socklen_t)a[5];
		/* recvfrom's length is the kernel's answer, in memory */
		if (nr == SYS_recvfrom &&
		    (!a[5] || !st_pq_read(tid, a[5], &len, sizeof(len))))
			len = 0;
		if (ret >= 0 && a[4] && len)
			st_pq_addr(tid, a[4], len, &r->u.data.addr);
		break;
	}
	case SYS_recvmsg:
	case SYS_sendmsg:
		r->u.data.asked = msg_len(tid, a[1]);
		r->u.data.flags = (int32_t)a[2];
		break;
	case SYS_sendfile:
		r->u.data.asked = a[3];
		break;
	default: /* recvmmsg, sendmmsg */
		r->u.mmsg.moved = ret > 0 ? mmsg_moved(tid, a[1], ret) : 0;
		r->u.mmsg.vlen = (uint32_t)a[2];
		r->u.mmsg.flags = (int32_t)a[3];
	}
}
