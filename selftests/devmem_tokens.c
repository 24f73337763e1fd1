// SPDX-License-Identifier: GPL-2.0
/*
 * devmem receive with odd control buffers and odd token arrays.
 *
 * An application's own dmabuf (a udmabuf it made, bound by the admin by
 * pid and fd), one connection of devmem-nc's pattern on a bound queue:
 *
 *  - recvmsg(MSG_SOCK_DEVMEM) with no control buffer, and with one too
 *    small for a cmsg: refused with ETOOSMALL, nothing consumed (the kernel
 *    never truncates a devmem cmsg, so MSG_CTRUNC is never set);
 *  - room for exactly one cmsg: one fragment, its bytes right;
 *  - the rest of the stream, every byte checked in the dmabuf;
 *  - SO_DEVMEM_DONTNEED with a length that is not a token array, with more
 *    than 128 entries (EINVAL), with tokens that were never handed out,
 *    duplicates, and a count of 2^32-1 (capped at 1024 per call);
 *  - closing the socket with tokens still held: the kernel reclaims them
 *    (the shell checks the binding's tokens-reclaimed).
 *
 *   devmem_tokens PORT SIZE DMABUF_SIZE HOLD
 * prints "pid PID fd FD" and waits for a line on stdin (the binding is
 * made) before it listens; TAP lines, then "held N" as it closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#ifndef MSG_SOCK_DEVMEM
#define MSG_SOCK_DEVMEM 0x2000000
#endif
#ifndef SO_DEVMEM_LINEAR
#define SO_DEVMEM_LINEAR 78
#define SO_DEVMEM_DMABUF 79
#define SO_DEVMEM_DONTNEED 80
#endif
#define ETOOSMALL 525	/* the kernel's own errno, as recvmsg() returns it */

struct dmabuf_cmsg_ {
	uint64_t frag_offset;
	uint32_t frag_size;
	uint32_t frag_token;
	uint32_t dmabuf_id;
	uint32_t flags;
};

#define CBUF_SIZE	(CMSG_SPACE(sizeof(struct dmabuf_cmsg_)) * 64)

struct dmabuf_token_ {
	uint32_t token_start;
	uint32_t token_count;
};

static int tap_n, tap_failed;

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

static void die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint8_t *map;
static size_t map_size;
static uint64_t stream_off;	/* bytes of the stream received so far */
static uint64_t bad_bytes;
static uint32_t *held;		/* tokens not yet given back */
static size_t nheld, held_cap;

static int udmabuf_new(size_t size)
{
	struct udmabuf_create c = { .size = size };
	int memfd, dev, fd;

	memfd = memfd_create("devmem_tokens", MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, size) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		die("memfd");
	dev = open("/dev/udmabuf", O_RDWR);
	if (dev < 0)
		die("/dev/udmabuf");
	c.memfd = memfd;
	fd = ioctl(dev, UDMABUF_CREATE, &c);
	if (fd < 0)
		die("UDMABUF_CREATE");
	close(dev);
	close(memfd);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	map_size = size;
	return fd;
}

static void sync_dmabuf(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags | DMA_BUF_SYNC_READ };

	ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

/* check the bytes of one fragment against the pattern at the stream offset */
static void check(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != devmem_pattern_byte(stream_off + i))
			bad_bytes++;
	stream_off += len;
}

static void hold(uint32_t token)
{
	if (nheld == held_cap) {
		held_cap = held_cap ? held_cap * 2 : 1024;
		held = realloc(held, held_cap * sizeof(*held));
		if (!held)
			die("realloc");
	}
	held[nheld++] = token;
}

/* one recvmsg with CTRL bytes of control buffer: bytes, or -errno */
static ssize_t devmem_recv(int s, int dfd, size_t ctrl, int *ncmsg)
{
	static uint8_t buf[65536];
	char cbuf[CBUF_SIZE];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl ? cbuf : NULL, .msg_controllen = ctrl,
	};
	struct cmsghdr *cm;
	size_t lin = 0;
	ssize_t ret;

	ret = recvmsg(s, &msg, MSG_SOCK_DEVMEM | MSG_DONTWAIT);
	if (ret < 0)
		return -errno;
	if (msg.msg_flags & MSG_CTRUNC)
		tap(false, "recvmsg set MSG_CTRUNC (control buffer %zu)", ctrl);
	*ncmsg = 0;
	sync_dmabuf(dfd, DMA_BUF_SYNC_START);
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		struct dmabuf_cmsg_ *d = (void *)CMSG_DATA(cm);

		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		(*ncmsg)++;
		if (cm->cmsg_type == SO_DEVMEM_LINEAR) {
			/* copied into buf, one after the other */
			check(buf + lin, d->frag_size);
			lin += d->frag_size;
		} else if (cm->cmsg_type == SO_DEVMEM_DMABUF) {
			if (d->frag_offset + d->frag_size > map_size) {
				tap(false, "fragment [%llu, +%u) outside the dmabuf",
				    (unsigned long long)d->frag_offset, d->frag_size);
				continue;
			}
			check(map + d->frag_offset, d->frag_size);
			hold(d->frag_token);
		}
	}
	sync_dmabuf(dfd, DMA_BUF_SYNC_END);
	return ret;
}

static int inq(int s)
{
	int n = -1;

	ioctl(s, FIONREAD, &n);
	return n;
}

static int dontneed(int s, const struct dmabuf_token_ *t, size_t n, size_t optlen)
{
	int ret = setsockopt(s, SOL_SOCKET, SO_DEVMEM_DONTNEED, t,
			     optlen ? optlen : n * sizeof(*t));

	return ret < 0 ? -errno : ret;
}

/* give back held tokens from index FROM on, 128 per call */
static size_t give_back(int s, size_t from)
{
	struct dmabuf_token_ t[128];
	size_t done = 0, k, i;

	for (i = from; i < nheld; i += k) {
		int ret;

		for (k = 0; k < 128 && i + k < nheld; k++)
			t[k] = (struct dmabuf_token_){ held[i + k], 1 };
		ret = dontneed(s, t, k, 0);
		if (ret > 0)
			done += ret;
	}
	nheld = from;
	return done;
}

static void wait_readable(int s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	poll(&p, 1, 10000);
}

int main(int argc, char **argv)
{
	uint64_t size, hold_at_close;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	int dfd, l, s, one = 1, ncm, ret;
	char line[64];
	ssize_t n;

	if (argc != 5) {
		fprintf(stderr, "usage: devmem_tokens PORT SIZE DMABUF_SIZE HOLD\n");
		return 2;
	}
	a.sin6_port = htons(atoi(argv[1]));
	size = strtoull(argv[2], NULL, 0);
	hold_at_close = strtoull(argv[4], NULL, 0);
	dfd = udmabuf_new(strtoull(argv[3], NULL, 0));
	printf("pid %d fd %d\n", getpid(), dfd);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		die("stdin");

	printf("TAP version 13\n");
	l = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1))
		die("listen");
	printf("# listening\n");
	fflush(stdout);
	s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	close(l);
	wait_readable(s);

	/* -- control buffers too small: refused, nothing consumed */
	{
		int before = inq(s);

		n = devmem_recv(s, dfd, 0, &ncm);
		tap(n == -ETOOSMALL && inq(s) >= before,
		    "no control buffer: ETOOSMALL, nothing consumed (got %zd)", n);
		n = devmem_recv(s, dfd, sizeof(struct cmsghdr) + 4, &ncm);
		tap(n == -ETOOSMALL && inq(s) >= before,
		    "control buffer smaller than one cmsg: ETOOSMALL, nothing consumed (got %zd)", n);
		n = devmem_recv(s, dfd, CMSG_SPACE(sizeof(struct dmabuf_cmsg_)), &ncm);
		tap(n > 0 && n <= 4096 && ncm == 1 && stream_off == (uint64_t)n && !bad_bytes,
		    "room for one cmsg: one fragment of %zd bytes, its bytes right", n);
	}

	/* -- the rest of the stream; tokens given back in batches */
	while (stream_off < size) {
		n = devmem_recv(s, dfd, CBUF_SIZE, &ncm);
		if (n == -EAGAIN) {
			wait_readable(s);
			continue;
		}
		if (n == -ENOBUFS || n == -ENOMEM) {	/* the pool is empty: give back */
			give_back(s, 0);
			continue;
		}
		if (n <= 0)
			break;
		/* keep the first tokens of the stream held; give back the others */
		if (nheld > hold_at_close + 256)
			give_back(s, hold_at_close);
	}
	tap(stream_off == size && !bad_bytes,
	    "the stream: %llu of %llu bytes, %llu wrong", (unsigned long long)stream_off,
	    (unsigned long long)size, (unsigned long long)bad_bytes);
	give_back(s, hold_at_close);
	tap(nheld == hold_at_close, "%zu tokens held", nheld);

	/* -- token arrays the kernel must not trust */
	{
		struct dmabuf_token_ *big = calloc(129, sizeof(*big));
		struct dmabuf_token_ t[3];
		struct timespec t0, t1;

		ret = dontneed(s, big, 1, sizeof(*big) - 1);
		tap(ret == -EINVAL, "SO_DEVMEM_DONTNEED of a partial token: EINVAL (got %d)", ret);
		ret = dontneed(s, big, 129, 0);
		tap(ret == -EINVAL, "SO_DEVMEM_DONTNEED of 129 tokens: EINVAL (got %d)", ret);
		/* shorter than an int, as every SOL_SOCKET option */
		ret = setsockopt(s, SOL_SOCKET, SO_DEVMEM_DONTNEED, big, 0) < 0 ? -errno : 0;
		tap(ret == -EINVAL, "SO_DEVMEM_DONTNEED of no token: EINVAL (got %d)", ret);
		t[0] = (struct dmabuf_token_){ 0xfffff000, 16 };
		ret = dontneed(s, t, 1, 0);
		tap(ret == 0, "tokens never handed out: none released (got %d)", ret);
		if (nheld >= 2) {
			t[0] = (struct dmabuf_token_){ held[nheld - 1], 1 };
			t[1] = t[0];
			t[2] = t[0];
			ret = dontneed(s, t, 3, 0);
			tap(ret == 1, "one token three times: released once (got %d)", ret);
			ret = dontneed(s, t, 1, 0);
			tap(ret == 0, "...and not again (got %d)", ret);
			nheld--;
		}
		/* a count of 2^32-1 from a token that is still held: at most
		 * 1024 looked at, quickly
		 */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		t[0] = (struct dmabuf_token_){ 0x7fffffff, 0xffffffff };
		ret = dontneed(s, t, 1, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		tap(ret == 0 && t1.tv_sec - t0.tv_sec < 2,
		    "a count of 2^32-1: capped, returns at once (got %d)", ret);
		free(big);
	}

	printf("held %zu\n", nheld);
	fflush(stdout);
	close(s);	/* the kernel reclaims what is still held */
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
