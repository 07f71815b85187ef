/* SPDX-License-Identifier: MIT */
/* A delay line: packets read from a TUN device go back into it later. */

/*
 *   delayline NAME MS - makes TUN device NAME (no packet info) and
 *                       prints "ready"; every packet the kernel routes
 *                       into it is written back into it MS ms after it
 *                       came, in order, so the kernel receives it on
 *                       NAME and routes it on by its destination.
 * A stand-in for netem's delay where the kernel lacks sch_netem:
 * tests/it_latency.py routes two namespaces' traffic through it.  It
 * runs until killed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 4096 /* packets in flight: ample for a test's few */
#define MTU   2048

struct pkt {
	uint64_t due; /* CLOCK_MONOTONIC ns when it goes back */
	ssize_t len;
	unsigned char b[MTU];
};

static struct pkt ring[SLOTS];

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr)) {
		perror("tun");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned head = 0, tail = 0; /* write ring[head], read into tail */

	if (argc != 3) {
		fprintf(stderr, "usage: delayline NAME MS\n");
		return 2;
	}
	int fd = tun_open(argv[1]);
	uint64_t delay = strtoull(argv[2], NULL, 10) * 1000000u;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int ms = -1;
		uint64_t t = now_ns();
		/* every packet due goes back, oldest first */
		while (head != tail && ring[head % SLOTS].due <= t) {
			struct pkt *p = &ring[head++ % SLOTS];
			if (write(fd, p->b, (size_t)p->len) < 0)
				perror("write");
		}
		if (head != tail)
			ms = (int)((ring[head % SLOTS].due - t) / 1000000u) + 1;
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (tail - head == SLOTS) /* full: drop nothing, wait */
			pf.events = 0;
		if (poll(&pf, 1, ms) <= 0 || !(pf.revents & POLLIN))
			continue;
		struct pkt *p = &ring[tail % SLOTS];
		p->len = read(fd, p->b, MTU);
		if (p->len <= 0)
			continue;
		p->due = now_ns() + delay;
		tail++;
	}
}
