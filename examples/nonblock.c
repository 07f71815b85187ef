/* SPDX-License-Identifier: MIT */
/* nonblock: connects as curl does them: EINPROGRESS, poll, SO_ERROR. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static const char line[] = "hello, nonblock\n";

/*
 * A connect the way curl starts one: O_NONBLOCK set with fcntl, then
 * connect, which returns -1 EINPROGRESS: the SYN is sent, the answer
 * comes later.  (On loopback the answer is back before connect returns,
 * but the socket is locked during connect, so the kernel handles it only
 * afterwards: EINPROGRESS every time.)
 */
static int start_connect(unsigned port)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		fail("client socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		fail("connect returned 0 at once, expected EINPROGRESS");
	if (errno != EINPROGRESS)
		fail("connect: %s, expected EINPROGRESS", strerror(errno));
	return fd;
}

/*
 * Waits until FD's connect has finished (writable, or an error) and
 * returns its outcome as an errno value: SO_ERROR, as curl reads it.
 */
static int finish_connect(int fd)
{
	int err;
	socklen_t l = sizeof(err);

	if (!wait_for(fd, POLLOUT, 1000))
		fail("connect did not finish within 1 s");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l))
		fail("getsockopt(SO_ERROR): %s", strerror(errno));
	return err;
}

static void client(int from_server, int to_server)
{
	char buf[64];
	int fd = start_connect(get(from_server));
	int err = finish_connect(fd);

	(void)to_server;
	if (err)
		fail("client: SO_ERROR %s, expected 0", strerror(err));
	if (write(fd, line, sizeof(line) - 1) != sizeof(line) - 1)
		fail("client write: %s", strerror(errno));
	if (read_line(fd, buf, sizeof(buf)) != sizeof(line) - 1 ||
	    strcmp(buf, line))
		fail("client: the echo differs from what was sent");
	close(fd);

	/* the same steps against a closed port: the outcome is in SO_ERROR */
	fd = start_connect(closed_port());
	err = finish_connect(fd);
	if (err != ECONNREFUSED)
		fail("client: SO_ERROR %s, expected ECONNREFUSED",
		     err ? strerror(err) : "0");
	close(fd);
}

static void server(int to_client, int from_client)
{
	char buf[64];
	int lfd = listen_loopback(8);
	unsigned sport = port_of(lfd, false);

	(void)from_client;
	put(to_client, sport);
	int fd = accept_client(lfd, to_client);
	unsigned cport = port_of(fd, true);
	size_t n = read_line(fd, buf, sizeof(buf));
	if (write(fd, buf, n) != (ssize_t)n)
		fail("server write: %s", strerror(errno));
	if (read_line(fd, buf, sizeof(buf)) != 0)
		fail("server: expected EOF after the line");
	close(fd);
	close(lfd);
	reap_client();
	expect_state(cport, sport, TCP_TIME_WAIT, "client TIME_WAIT");
}

int main(void)
{
	printf("nonblock: connect as curl does: O_NONBLOCK, connect = -1 "
	       "EINPROGRESS, poll for\n"
	       "POLLOUT, then getsockopt(SO_ERROR) says how it ended.  Look "
	       "for: SO_ERROR 0,\n"
	       "an echo exchange and close (no findings); then a connect to a "
	       "closed port\n"
	       "whose SO_ERROR is ECONNREFUSED (finding: connect_failed).\n");
	run_pair(client, server);
	return 0;
}
