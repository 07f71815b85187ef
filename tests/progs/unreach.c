/* SPDX-License-Identifier: MIT */
/* Unreachable peers, one of each cause, for checks on the wire. */

/*
 * unreach ROUTE NEIGH REJECT TPORT UPORT (IPv4 addresses), in order:
 *   route  - a blocking connect to ROUTE:80, which an unreachable route
 *            covers: EHOSTUNREACH in the call, no SYN sent;
 *   neigh  - a blocking connect to NEIGH:80, an address of the link's
 *            subnet nobody answers ARP for: EHOSTUNREACH after ~3 s;
 *   reject - a non-blocking connect to REJECT:TPORT, which a firewall
 *            rejects with ICMP host unreachable: SO_ERROR EHOSTUNREACH;
 *   udp    - a connected UDP socket to REJECT:UPORT, where nothing
 *            listens: its second send gets ECONNREFUSED.
 * Each prints "NAME ERRNO".  tests/it_unreach.py runs it in network
 * namespaces it makes and holds the findings against a capture.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in addr(const char *ip, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		exit(2);
	return sa;
}

static void say(const char *name, int err)
{
	printf("%s %s\n", name, err ? strerrorname_np(err) : "0");
	fflush(stdout);
}

static void blocking(const char *name, struct sockaddr_in sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	say(name, connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0);
	close(fd);
}

static void nonblocking(const char *name, struct sockaddr_in sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t l = sizeof(err);

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		say(name, 0);
	} else if (errno != EINPROGRESS) {
		say(name, errno);
	} else {
		poll(&p, 1, 10000);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
		say(name, err);
	}
	close(fd);
}

static void udp(const char *name, struct sockaddr_in sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, "x", 1, 0) != 1)
		err = errno;
	usleep(200000); /* the ICMP port unreachable comes back */
	if (!err && send(fd, "y", 1, 0) < 0)
		err = errno;
	say(name, err);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	blocking("route", addr(argv[1], "80"));
	blocking("neigh", addr(argv[2], "80"));
	nonblocking("reject", addr(argv[3], argv[4]));
	udp("udp", addr(argv[3], argv[5]));
	return 0;
}
