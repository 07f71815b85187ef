/* SPDX-License-Identifier: MIT */
/* The on-disk trace format shared by the preload library and the viewer. */
#ifndef SOCKTRACE_FORMAT_H
#define SOCKTRACE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calls.h"

/*
 * A trace file is one header page followed by fixed-size record slots.
 * Slot i holds record number n where n % capacity == i; its seq field is
 * n + 1 once the record is complete, 0 while the slot is empty or its
 * first record is being written, and n + 1 | ST_SEQ_BUSY while a later
 * lap of a ring rewrites it with record n.
 * All integers are in the byte order of the machine that wrote them; a
 * version that reads right only byte-swapped tells a reader it differs.
 */
#define ST_MAGIC   "SOCKTRC\x01"
#define ST_VERSION 4
/* Oldest version this format reads: 3 and 4 only added call kinds and
 * payload fields after the old ones, which older writers left zero (4:
 * TCP_INFO at close, the tcpinfo record, the header's TCP timers). */
#define ST_VERSION_MIN	2
#define ST_HEADER_SIZE	4096
#define ST_SLOT_SIZE	128
#define ST_PAYLOAD_SIZE 72
#define ST_CHUNK_SLOTS	8192 /* growth step: 1 MiB of slots */
/* st_rec.seq: a ring writer owns the slot */
#define ST_SEQ_BUSY (1ull << 63)

/* st_header.limits: which of the program's limits bounded its file. */
#define ST_LIMIT_FSIZE 0x1 /* RLIMIT_FSIZE */
#define ST_LIMIT_AS    0x2 /* RLIMIT_AS */

/*
 * st_header.source: what wrote the records.  PRELOAD: libsocktrace.so,
 * in the process.  PTRACE: socktrace run --ptrace, the tracer at the
 * seccomp stops of the lifecycle calls (data calls were not traced).
 * PTRACE_DATA: run --ptrace --data, the data calls on sockets too.
 */
#define ST_SOURCE_PRELOAD     0
#define ST_SOURCE_PTRACE      1
#define ST_SOURCE_PTRACE_DATA 2

/* Full-file policy (st_header.policy). */
#define ST_POLICY_RING 0 /* keep the newest records */
#define ST_POLICY_STOP 1 /* keep the oldest records */

/* st_addr.family values besides AF_INET, AF_INET6, AF_UNIX, 0 (none). */
#define ST_ADDR_TRUNC 0x8000 /* OR'd in: Unix path cut to its last bytes */

/*
 * A socket address in 28 bytes.  Ports are in host order.  For AF_INET the
 * first 4 data bytes are the address, for AF_INET6 the first 16 are the
 * address and the next 4 the scope id; for AF_UNIX data is the path,
 * NUL-padded (abstract names keep their leading NUL).  Longer Unix paths
 * keep their last 24 bytes and set ST_ADDR_TRUNC.
 */
struct st_addr {
	uint16_t family;
	uint16_t port;
	uint8_t data[24];
};

/* Payload structs, one per shape: struct st_p_<shape>. */
#define ST__T_i32	      int32_t
#define ST__T_u32	      uint32_t
#define ST__T_u64	      uint64_t
#define ST__T_addr	      struct st_addr
#define ST__T_tcpstate	      uint32_t
#define ST__T_cnum	      uint32_t
#define ST__FIELD(type, name) ST__T_##type name;
#define ST__SHAPE_STRUCT(shape)                          \
	struct st_p_##shape {                            \
		ST_SHAPE_##shape(ST__FIELD) char end[0]; \
	};
ST_SHAPE_LIST(ST__SHAPE_STRUCT)
#undef ST__SHAPE_STRUCT
#undef ST__FIELD

/* Call kinds: ST_CALL_<name>, in table order, stored as st_rec.call. */
/* the table expands inside the braces: clang-format would indent it */
/* clang-format off */
enum st_call {
#define ST__ENUM(name, shape, dir) ST_CALL_##name,
	ST_CALL_TABLE(ST__ENUM)
#undef ST__ENUM
	ST_CALL_COUNT
};
/* clang-format on */

enum st_dir { ST_DIR_NONE, ST_DIR_IN, ST_DIR_OUT };

/* seen records: u.seen.flags */
#define ST_SEEN_LISTENING 0x1 /* SO_ACCEPTCONN: a listening socket */
#define ST_SEEN_ATTACH	  0x2 /* found open by socktrace attach */

/*
 * close and range records: u.close.close_flags (u.range.close_flags), what
 * the kernel said about the socket just before it was closed.  Zero in
 * version 2 traces and when not asked (not TCP, SOCKTRACE_TCP_INFO=0, a
 * state in which close sends no segment): nothing known.
 */
#define ST_CLOSE_UNREAD	 0x1  /* unread holds the receive queue's bytes */
#define ST_CLOSE_LINGER	 0x2  /* SO_LINGER was read; LINGER0 says which */
#define ST_CLOSE_LINGER0 0x4  /* SO_LINGER {1, 0}: close sends RST */
#define ST_CLOSE_TCPINFO 0x8  /* rtt .. unacked hold TCP_INFO (version 4) */
#define ST_CLOSE_RTO	 0x10 /* the kernel has total_rto, total_rto_time */
#define ST_CLOSE_QUEUE	 0x20 /* a listener: queue_len, queue_max are set */

/* st_rec.flags */
#define ST_REC_ERR 0x1 /* the call failed: err holds errno */
/* accept: queue_len is the listener's queue before the call (older
 * writers read it after: one less, plus any that came meanwhile) */
#define ST_REC_QUEUE_BEFORE 0x2
#define ST_REC_FLAGS	    (ST_REC_ERR | ST_REC_QUEUE_BEFORE) /* all */

/*
 * st_rec.sock: the kind of socket the record's fd was when the call was
 * made, from the library's fd table (no system call).  Every record of a
 * socket carries it, so a connection whose socket() record a ring
 * overwrote still says what it is.  0 in version 2 and 3 traces before
 * this field, and for records about no socket.
 */
#define ST_SOCK_KNOWN	0x100
#define ST_SOCK_FAM(s)	((s)&0xf)	   /* ST_SOCK_INET... */
#define ST_SOCK_TYPE(s) (((s) >> 4) & 0xf) /* ST_SOCK_STREAM... */
#define ST_SOCK_INET	1
#define ST_SOCK_INET6	2
#define ST_SOCK_UNIX	3
#define ST_SOCK_STREAM	1
#define ST_SOCK_DGRAM	2

/*
 * One record slot.  seq is written last, with release order, and read
 * first by readers (acquire), so a reader that sees seq == n + 1 sees the
 * whole record n.
 */
struct st_rec {
	uint64_t seq;  /* record number + 1; 0 = not (yet) written */
	uint64_t ts;   /* CLOCK_MONOTONIC ns when the call started */
	uint64_t dur;  /* ns the call took */
	uint64_t conn; /* connection id of the socket, 0 if none */
	int64_t ret;   /* return value as the program saw it */
	int32_t tid;
	int32_t fd;
	uint16_t call; /* enum st_call */
	uint16_t err;  /* errno when flags & ST_REC_ERR */
	uint16_t flags;
	uint16_t sock; /* ST_SOCK_*: what the fd was at the call, 0 unknown */
	union {
		uint8_t raw[ST_PAYLOAD_SIZE];
#define ST__UNION(shape) struct st_p_##shape shape;
		ST_SHAPE_LIST(ST__UNION)
#undef ST__UNION
	} u;
};

/*
 * The header page.  Fields above "live" are written once when the file is
 * created; the live counters change while the process runs.
 */
struct st_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t slot_size;
	uint32_t chunk_slots;
	uint64_t capacity; /* slots at the size cap */
	uint32_t policy;   /* ST_POLICY_* */
	int32_t pid;
	int32_t ppid;
	int32_t uid;
	int32_t somaxconn; /* net.core.somaxconn at start, -1 if unreadable */
	uint32_t pad0;
	uint64_t mono_ns; /* CLOCK_MONOTONIC and CLOCK_REALTIME read together */
	uint64_t real_ns;
	char comm[16];
	char exe[256];
	char host[64];
	char boot_id[40];
	/*
	 * Set only in a process socktrace attach loaded the library into:
	 * it records while CLOCK_MONOTONIC ns < attach_until.  The viewer
	 * renews this lease while it follows the file and sets it to 1 when
	 * it stops; a process started with the preload leaves it 0 and
	 * always records.
	 */
	uint64_t attach_until;
	/* net.ipv4 TCP timers at start (version 4; -1 if unreadable, 0 in
	 * files of version < 4) */
	int32_t tcp_fin_timeout;    /* s in FIN_WAIT_2 (orphaned) */
	int32_t tcp_syn_retries;    /* SYN retransmissions before ETIMEDOUT */
	int32_t tcp_synack_retries; /* SYN+ACK retransmissions */
	int32_t tcp_tw_reuse;	    /* 0 off, 1 on, 2 loopback only */
	/* ST_LIMIT_*: the program's own limits kept the file smaller than
	 * SOCKTRACE_MAX_SIZE (0 in older files: not known) */
	uint32_t limits;
	/* ST_SOURCE_*: what wrote the records (0 in older files: the
	 * preload, the only writer there was) */
	uint32_t source;
	uint8_t reserved[3488];
	/* live: each on its own cache line, written with atomics */
	uint64_t next; /* records reserved so far */
	uint8_t pad1[56];
	uint64_t mapped;  /* slots backed by the file so far */
	uint64_t dropped; /* records dropped (file full, no space) */
	uint64_t exit_ts; /* CLOCK_MONOTONIC ns at normal exit, 0 if none */
	uint8_t pad2[40];
};

_Static_assert(sizeof(struct st_addr) == 28, "st_addr layout");
_Static_assert(sizeof(struct st_rec) == ST_SLOT_SIZE, "slot size");
_Static_assert(offsetof(struct st_rec, u) == ST_SLOT_SIZE - ST_PAYLOAD_SIZE,
	       "payload offset");
_Static_assert(sizeof(struct st_header) == ST_HEADER_SIZE, "header size");
_Static_assert(offsetof(struct st_header, next) % 64 == 0, "next alignment");
#define ST__FITS(shape)                                                \
	_Static_assert(sizeof(struct st_p_##shape) <= ST_PAYLOAD_SIZE, \
		       "payload of shape " #shape " too large");
ST_SHAPE_LIST(ST__FITS)
#undef ST__FITS

/* The header's layout fields as every writer of this format sets them
 * (the preload, the ptrace mode, the benchmark's generator): at most
 * CAPACITY slots, POLICY ST_POLICY_*.  The rest is the writer's. */
static inline void st_header_layout(struct st_header *h, uint64_t capacity,
				    uint32_t policy)
{
	for (size_t i = 0; i < sizeof(h->magic); i++)
		h->magic[i] = ST_MAGIC[i];
	h->version = ST_VERSION;
	h->header_size = ST_HEADER_SIZE;
	h->slot_size = ST_SLOT_SIZE;
	h->chunk_slots = ST_CHUNK_SLOTS;
	h->capacity = capacity;
	h->policy = policy;
}

/* Connection ids: creating pid in the high half, a per-process count low. */
static inline uint64_t st_conn_id(int32_t pid, uint32_t n)
{
	return (uint64_t)(uint32_t)pid << 32 | n;
}

/* The id a cnum field names in a file of process PID (0: none). */
static inline uint64_t st_cnum_conn(int32_t pid, uint32_t n)
{
	return n ? st_conn_id(pid, n) : 0;
}

/* When a call returned (its start plus its duration): when it took
 * effect, and the order in which one file holds its records. */
static inline uint64_t st_rec_end(const struct st_rec *r)
{
	return r->ts + r->dur;
}

/* MSG_PEEK in an input record's flags (u.data.flags, u.mmsg.flags): the
 * same value on every Linux architecture. */
#define ST_MSG_PEEK 0x2

/* Did input call R only peek (MSG_PEEK)?  What it saw stays queued: a
 * later call receives it.  Its flags were recorded since version 2. */
static inline bool st_rec_peek(const struct st_rec *r)
{
	switch (r->call) {
	case ST_CALL_recv:
	case ST_CALL___recv_chk:
	case ST_CALL_recvfrom:
	case ST_CALL___recvfrom_chk:
	case ST_CALL_recvmsg:
		return r->u.data.flags & ST_MSG_PEEK;
	case ST_CALL_recvmmsg:
		return r->u.mmsg.flags & ST_MSG_PEEK;
	default:
		return false;
	}
}

/* Bytes a data call (st_call_dir not ST_DIR_NONE) returned, -1 when ret
 * is (callers test ST_REC_ERR).  ret says it for all but sendmmsg and
 * recvmmsg, whose ret is a count of messages: their bytes are
 * u.mmsg.moved.  A peek's bytes were seen, not received. */
static inline int64_t st_rec_returned(const struct st_rec *r)
{
	if (r->ret < 0)
		return -1;
	if (r->call == ST_CALL_sendmmsg || r->call == ST_CALL_recvmmsg)
		return (int64_t)r->u.mmsg.moved;
	return r->ret;
}

/* Bytes a data call moved: sent, or taken off the receive queue; 0 for
 * a peek (st_rec_peek), -1 when ret is. */
static inline int64_t st_rec_bytes(const struct st_rec *r)
{
	int64_t n = st_rec_returned(r);

	return n > 0 && st_rec_peek(r) ? 0 : n;
}

/* Did input call R read end of file (0 bytes)?  A recvmmsg did when it
 * returned messages (at EOF each one is empty), not when asked for none.
 * A peek of 0 saw the end of file too: the peer's FIN is in. */
static inline bool st_rec_eof(const struct st_rec *r)
{
	return st_rec_returned(r) == 0 &&
	       (r->call != ST_CALL_recvmmsg || r->ret > 0);
}

#endif
