/* SPDX-License-Identifier: MIT */
/* The call table: every recorded call kind and the fields of its record. */
#ifndef SOCKTRACE_CALLS_H
#define SOCKTRACE_CALLS_H

/*
 * One row per call kind: X(name, shape, dir).
 *   name  - the name the program called (also the JSON "call" value)
 *   shape - which payload layout the record carries (ST_SHAPE_<shape> below)
 *   dir   - data direction: ST_DIR_NONE, ST_DIR_IN (bytes received) or
 *           ST_DIR_OUT (bytes sent)
 * Includers define X, expand the table and undefine X.  New rows go at the
 * end: the enum value of a row is stored in trace files.
 */
#define ST_CALL_TABLE(X)                    \
	X(socket, sock, ST_DIR_NONE)        \
	X(socketpair, sock, ST_DIR_NONE)    \
	X(bind, addr, ST_DIR_NONE)          \
	X(connect, connect, ST_DIR_NONE)    \
	X(listen, listen, ST_DIR_NONE)      \
	X(accept, accept, ST_DIR_NONE)      \
	X(accept4, accept, ST_DIR_NONE)     \
	X(getsockopt, sockopt, ST_DIR_NONE) \
	X(shutdown, how, ST_DIR_NONE)       \
	X(close, close, ST_DIR_NONE)        \
	X(read, data, ST_DIR_IN)            \
	X(__read_chk, data, ST_DIR_IN)      \
	X(readv, data, ST_DIR_IN)           \
	X(recv, data, ST_DIR_IN)            \
	X(__recv_chk, data, ST_DIR_IN)      \
	X(recvfrom, data, ST_DIR_IN)        \
	X(__recvfrom_chk, data, ST_DIR_IN)  \
	X(recvmsg, data, ST_DIR_IN)         \
	X(write, data, ST_DIR_OUT)          \
	X(writev, data, ST_DIR_OUT)         \
	X(send, data, ST_DIR_OUT)           \
	X(sendto, data, ST_DIR_OUT)         \
	X(sendmsg, data, ST_DIR_OUT)        \
	X(sendfile, data, ST_DIR_OUT)       \
	X(dup, dup, ST_DIR_NONE)            \
	X(dup2, dup, ST_DIR_NONE)           \
	X(dup3, dup, ST_DIR_NONE)           \
	X(fcntl, dup, ST_DIR_NONE)          \
	X(close_range, range, ST_DIR_NONE)  \
	X(closefrom, range, ST_DIR_NONE)    \
	X(fclose, close, ST_DIR_NONE)       \
	X(fork, none, ST_DIR_NONE)          \
	X(seen, seen, ST_DIR_NONE)          \
	X(setsockopt, setopt, ST_DIR_NONE)  \
	X(sendmmsg, mmsg, ST_DIR_OUT)       \
	X(recvmmsg, mmsg, ST_DIR_IN)        \
	X(tcpinfo, tcpinfo, ST_DIR_NONE)    \
	X(exit_close, close, ST_DIR_NONE)

/*
 * Payload layouts: ST_SHAPE_<shape>(F) lists F(type, name) per field, in
 * record order.  The field name is also the JSON key.  Types: i32, u32,
 * u64, addr (struct st_addr), tcpstate (u32 holding a TCP_* state, 0 when
 * unknown), cnum (u32: the number part of a connection id made by the
 * process whose file holds the record, where 64 bits do not fit).  A
 * payload holds at most ST_PAYLOAD_SIZE bytes (checked at compile time).
 *
 * What the fields mean is documented in README ("Record fields").  Record
 * header fields common to all kinds (ts, dur, fd, ret, errno, conn, tid)
 * live in struct st_rec.
 */
/* the fields line up as a table: clang-format would rewrap them */
/* clang-format off */
#define ST_SHAPE_none(F)
#define ST_SHAPE_sock(F)                                \
	F(i32, domain) F(i32, socktype) F(i32, protocol)    \
	F(i32, fd2) F(u64, conn2)
#define ST_SHAPE_addr(F) F(addr, addr)
#define ST_SHAPE_connect(F) F(addr, addr) F(addr, local)
#define ST_SHAPE_listen(F)                              \
	F(i32, backlog) F(i32, effective_backlog) F(i32, somaxconn) \
	F(addr, local)
#define ST_SHAPE_accept(F)                              \
	F(addr, peer) F(addr, local) F(u32, queue_len)  \
	F(u32, queue_max) F(cnum, conn2) F(i32, peer_pid)
#define ST_SHAPE_sockopt(F) F(i32, level) F(i32, optname) F(i32, value)
#define ST_SHAPE_how(F) F(i32, how)
/*
 * TCP_INFO just before a close (close_flags says which parts are set):
 * times in us (total_rto_time in ms, as the kernel counts it); on a
 * listener queue_len and queue_max are its accept queue, and the others
 * are 0.  Shared by close and range records.
 */
#define ST__KERNEL_AT_CLOSE(F)                          \
	F(u32, rtt) F(u32, rttvar) F(u32, min_rtt) F(u32, snd_cwnd) \
	F(u32, total_retrans) F(u32, total_rto) F(u32, total_rto_time) \
	F(u32, notsent_bytes) F(u32, unacked) F(u32, queue_len) \
	F(u32, queue_max)
#define ST_SHAPE_close(F)                               \
	F(tcpstate, tcp_state) F(u32, unread) F(u32, close_flags) \
	ST__KERNEL_AT_CLOSE(F)
#define ST_SHAPE_data(F) F(u64, asked) F(i32, flags) F(addr, addr)
#define ST_SHAPE_dup(F)                                 \
	F(i32, cmd) F(i32, new_fd) F(u64, replaced_conn) F(i32, arg)
#define ST_SHAPE_range(F)                               \
	F(u32, first) F(u32, last) F(i32, flags) F(tcpstate, tcp_state) \
	F(u32, unread) F(u32, close_flags) ST__KERNEL_AT_CLOSE(F)
#define ST_SHAPE_seen(F)                                \
	F(i32, domain) F(i32, socktype) F(addr, local) F(addr, peer) \
	F(tcpstate, tcp_state) F(u32, flags)
#define ST_SHAPE_setopt(F)                              \
	F(i32, level) F(i32, optname) F(i32, value) F(i32, value2)
/* ret is the messages moved; moved their bytes (the sum of msg_len) */
#define ST_SHAPE_mmsg(F)                                \
	F(u64, moved) F(u32, vlen) F(i32, flags)
/*
 * A TCP connection's lifetime counters from TCP_INFO, written by the
 * close wrappers just before the close record of a connected TCP socket
 * (ret: the bytes of struct tcp_info the kernel filled).  delivery_rate
 * in bytes/s, the times in us.
 */
#define ST_SHAPE_tcpinfo(F)                             \
	F(u64, bytes_sent) F(u64, bytes_acked) F(u64, bytes_received) \
	F(u64, bytes_retrans) F(u64, delivery_rate) F(u64, busy_time) \
	F(u64, rwnd_limited) F(u64, sndbuf_limited)

/* Every shape, once, so per-shape code can be generated. */
#define ST_SHAPE_LIST(S)                                                  \
	S(none) S(sock) S(addr) S(connect) S(listen) S(accept) S(sockopt) \
	S(how) S(close) S(data) S(dup) S(range) S(seen) S(setopt) \
	S(mmsg) S(tcpinfo)
/* clang-format on */

#endif
