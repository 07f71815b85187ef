/* SPDX-License-Identifier: MIT */
/* Helpers shared by the examples: pipes, loopback sockets, state checks. */
#ifndef ST_EXAMPLES_COMMON_H
#define ST_EXAMPLES_COMMON_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* In the server (parent): the client's pid, stopped and reaped on fail. */
extern pid_t child;

/* Says what went wrong on stderr and exits 1 (after reaping the client). */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Pipe messages: one unsigned each.  Pipes are not sockets: not traced. */
void put(int fd, unsigned v);
unsigned get(int fd);

/* 127.0.0.1:PORT. */
struct sockaddr_in loopback(unsigned port);
/* The port of FD's local (or, with PEER, remote) address. */
unsigned port_of(int fd, bool peer);
/* A TCP listener on 127.0.0.1 and a port the kernel picks (port 0). */
int listen_loopback(int backlog);
/* A port on 127.0.0.1 that nothing listens on: bound, then given back. */
unsigned closed_port(void);

/*
 * The TCP state (TCP_* of <netinet/tcp.h>) of 127.0.0.1:LPORT ->
 * 127.0.0.1:RPORT as /proc/net/tcp lists it; 0 if not listed, -1 if the
 * file cannot be read.  Unlike getsockopt(TCP_INFO) it adds nothing to
 * the trace and sees sockets no fd refers to any more (TIME_WAIT).
 */
int tcp_state(unsigned lport, unsigned rport);
/* Waits up to 1 s for that state (segments may still be in flight). */
void expect_state(unsigned lport, unsigned rport, int want, const char *what);

/* poll() for EVENTS on FD for up to MS; true if they came. */
bool wait_for(int fd, short events, int ms);
/* Reads up to and including a newline (waiting on a non-blocking fd);
 * returns the length, 0 at EOF. */
size_t read_line(int fd, char *buf, size_t size);
/* accept() once a connection is there; fails if the client died first. */
int accept_client(int lfd, int to_client);

/*
 * Plays both ends: forks; the child runs CLIENT(from_server, to_server)
 * and exits, the parent runs SERVER(to_client, from_client).  Both get a
 * 10 s alarm: an example must never hang a test.
 */
void run_pair(void (*client)(int from_server, int to_server),
	      void (*server)(int to_client, int from_client));
/* Waits for the client; fails if it failed. */
void reap_client(void);

#endif
