// SPDX-License-Identifier: GPL-2.0
/*
 * devmem-nc - netcat for devmem TCP.
 *
 * The client sends a known byte pattern (pattern.h).  The server receives it
 * into a dmabuf with recvmsg(MSG_SOCK_DEVMEM) and checks every byte, whether
 * the NIC put it in the dmabuf or left it in the linear part of the skb,
 * then hands the dmabuf frags back with SO_DEVMEM_DONTNEED.  The plain,
 * bounce and trunc modes are what an application does without devmem TCP,
 * for the benchmark to compare against.
 *
 * The client sends with send() from host memory (--tx copy), or from a
 * dmabuf bound for transmit (--tx devmem: sendmsg(MSG_ZEROCOPY) whose iovs
 * are offsets into the dmabuf, named by an SCM_DEVMEM_DMABUF cmsg carrying
 * the binding id).  --tx bounce (memcpy out of the dmabuf, then send()) and
 * --tx zerocopy (MSG_ZEROCOPY from host memory) are the baselines.
 *
 * What the kernel (6.12 tcp_recvmsg_locked/tcp_recvmsg_dmabuf) promises and
 * this program relies on:
 *  - One recvmsg() never returns ordinary (readable) data and devmem data
 *    together: it stops where the kind of skb changes.
 *  - For devmem data every byte is described by a cmsg, in stream order.
 *    For each skb, the part of its linear area not yet read comes first
 *    (SCM_DEVMEM_LINEAR: the bytes are in the iov, packed one after the
 *    other in cmsg order), then its frags (SCM_DEVMEM_DMABUF: the bytes are
 *    at frag_offset in the dmabuf).  The return value is the sum of all
 *    frag_size values, so it is larger than what the iov holds, and the iov
 *    length caps the total (dmabuf bytes included) returned per call.
 *  - Ordinary data read with MSG_SOCK_DEVMEM (the flow arrived on a queue
 *    with no dmabuf) comes back in the iov with no devmem cmsg at all.
 *  - Without MSG_SOCK_DEVMEM, devmem data fails with EFAULT (once the bytes
 *    already copied in that call are returned) and stays queued.
 *    recv(MSG_TRUNC) skips the copy and so discards devmem data like any
 *    other: trunc mode works whichever queue the flow lands on.
 *  - When the control buffer has no room for the next cmsg, the call ends
 *    early with what it has; it never truncates (no MSG_CTRUNC).
 *  - SO_DEVMEM_DONTNEED takes at most 128 dmabuf_tokens and frees at most
 *    1024 frags per call, returning how many it freed.
 *
 * And for sending (devmem TX, and MSG_ZEROCOPY as since 4.14):
 *  - sendmsg(MSG_ZEROCOPY) on a socket with SO_ZEROCOPY pins the bytes
 *    until the skbs carrying them are freed (acked); only then does a
 *    completion come on the error queue, so a buffer region is rewritten
 *    only once the calls that sent it have completed.  Calls are numbered
 *    from 0 per socket, one number per call that sent anything; a
 *    completion (SO_EE_ORIGIN_ZEROCOPY) is the inclusive range
 *    ee_info..ee_data, SO_EE_CODE_ZEROCOPY_COPIED if the kernel copied
 *    instead (the kernel merges adjacent ranges, keeping the first one's
 *    code).  Notifications use the socket's optmem: ENOBUFS until some are
 *    read.
 *  - With an SCM_DEVMEM_DMABUF cmsg (a __u32 binding id), iov_base is an
 *    offset into the binding's dmabuf.  Refusals: EINVAL without
 *    MSG_ZEROCOPY or SO_ZEROCOPY, ENOENT for an unknown (other netns,
 *    unbound) binding, EOPNOTSUPP for an rx binding, ENODEV when the
 *    socket's route leaves through another device (SO_BINDTODEVICE pins
 *    it), EFAULT for an iov outside the dmabuf.
 *  - The pattern is different on every lap of a window of any size: the
 *    client writes each lap anew, as an application produces new data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* linux/uio.h declares its own struct iovec, which glibc already has. */
#define iovec linux_uapi_iovec
#include <linux/uio.h>
#undef iovec
#include <linux/devmem.h>
#include <linux/dma-buf.h>
#include <linux/errqueue.h>
#include <linux/netdev.h>
#include <linux/netlink.h>
#include <linux/udmabuf.h>

#include <json-c/json.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "pattern.h"

#ifndef MSG_SOCK_DEVMEM
#define MSG_SOCK_DEVMEM		0x2000000
#endif
#ifndef SO_DEVMEM_LINEAR
#define SO_DEVMEM_LINEAR	78
#define SCM_DEVMEM_LINEAR	SO_DEVMEM_LINEAR
#define SO_DEVMEM_DMABUF	79
#define SCM_DEVMEM_DMABUF	SO_DEVMEM_DMABUF
#define SO_DEVMEM_DONTNEED	80
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY		60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY		0x4000000
#endif
#ifndef NETDEV_CMD_BIND_TX
#define NETDEV_CMD_BIND_TX	15
#endif

/* kernel-internal errno tcp_recvmsg_dmabuf can leak: no room for a cmsg */
#define ERRNO_ETOOSMALL		525

/* SO_DEVMEM_DONTNEED limits (net/core/sock.c) */
#define DONTNEED_MAX_TOKENS	128
#define DONTNEED_MAX_FRAGS	1024

#define MAX_QUEUES		256
#define MAX_REPORTED_MISMATCHES	8

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define KiB			((uint64_t)1024)
#define MiB			(1024 * KiB)

enum mode {
	MODE_DEVMEM,
	MODE_PLAIN,
	MODE_BOUNCE,
	MODE_TRUNC,
};

static const char * const mode_names[] = {
	[MODE_DEVMEM]	= "devmem",
	[MODE_PLAIN]	= "plain",
	[MODE_BOUNCE]	= "bounce",
	[MODE_TRUNC]	= "trunc",
};

/* how the client sends */
enum tx_mode {
	TX_COPY,
	TX_DEVMEM,
	TX_BOUNCE,
	TX_ZEROCOPY,
};

static const char * const tx_names[] = {
	[TX_COPY]	= "copy",
	[TX_DEVMEM]	= "devmem",
	[TX_BOUNCE]	= "bounce",
	[TX_ZEROCOPY]	= "zerocopy",
};

struct opts {
	bool listen;
	const char *connect_addr;
	const char *bind_addr;
	const char *port;
	const char *ifname;
	const char *queues_arg;
	unsigned int queues[MAX_QUEUES];
	unsigned int nr_queues;
	uint64_t dmabuf_size;
	bool dmabuf_size_set;
	int dmabuf_fd;
	bool no_bind;
	bool netdev_bind;	/* bind with the netdev family's bind-rx/tx */
	enum devmem_lifetime lifetime;
	bool lifetime_set;
	uint32_t binding;	/* --binding: use this existing binding */
	bool binding_set;
	uint64_t size;
	bool size_set;
	size_t chunk;
	bool progress;
	enum mode mode;
	const char *mode_opt;	/* the option that chose the mode */
	unsigned int token_batch;
	bool hoard;
	bool json;
	int timeout;
	bool expect_efault;
	bool validate;
	enum tx_mode tx;
	/* first server-only option seen, to refuse it in client mode */
	const char *server_opt;
	/* and the first client-only one, for server mode */
	const char *client_opt;
};

struct stats {
	uint64_t bytes;
	uint64_t dmabuf_bytes;
	uint64_t linear_bytes;
	uint64_t plain_bytes;
	uint64_t dmabuf_frags;
	uint64_t linear_frags;
	uint64_t tokens_returned;
	uint64_t tokens_held;
	uint64_t held_bytes;
	uint64_t errors;
	uint64_t first_bad;
	/*
	 * Bytes this process copied: into its buffer by the kernel (recv,
	 * SCM_DEVMEM_LINEAR) plus its own memcpy into the dmabuf (bounce).
	 */
	uint64_t copied_bytes;
	double seconds;
	/* CPU time of this process from accept() to the end of the transfer */
	double cpu_user;
	double cpu_sys;
	bool efault;
	uint64_t efault_offset;
	bool have_dmabuf_id;
	uint32_t dmabuf_id;
	/* the family that made the binding: "devmem", "netdev" or "none" */
	const char *family;
	bool have_binding_id;
	uint32_t binding_id;
};

struct dmabuf {
	int fd;
	bool own_fd;
	uint8_t *map;
	uint64_t size;
	uint64_t bounce_pos;
};

/* Tokens read but not yet handed back, coalesced into runs. */
struct token_batch {
	struct dmabuf_token *runs;
	size_t nr_runs;
	size_t cap;
	uint64_t frags;
};

static char run_error[512];

static void __attribute__((format(printf, 2, 0)))
vmsg(const char *tail, const char *fmt, va_list ap)
{
	fputs("devmem-nc: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
}

static void __attribute__((format(printf, 1, 2)))
msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("\n", fmt, ap);
	va_end(ap);
}

/* Print a runtime error and keep it for the JSON summary; returns -1. */
static int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run_error, sizeof(run_error), fmt, ap);
	va_end(ap);
	msg("%s", run_error);
	return -1;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("\nTry 'devmem-nc -h' for more information.\n", fmt, ap);
	va_end(ap);
	exit(2);
}

static const char *errno_name(int err)
{
	static char buf[32];
	const char *name;

	if (err == ERRNO_ETOOSMALL)
		return "ETOOSMALL";
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static const char *errno_str(int err)
{
	if (err == ERRNO_ETOOSMALL)
		return "Buffer or request is too small";
	return strerror(err);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv_seconds(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

/* This process's CPU time (all threads) so far, user and system. */
static void cpu_times(double *user, double *sys)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0) {
		*user = *sys = 0;
		return;
	}
	*user = tv_seconds(&ru.ru_utime);
	*sys = tv_seconds(&ru.ru_stime);
}

static const char usage_text[] =
"Usage: devmem-nc -l -p PORT [ -a ADDR ] [ SERVER OPTIONS ] [ COMMON ]\n"
"       devmem-nc -c ADDR -p PORT -s SIZE [ CLIENT OPTIONS ] [ COMMON ]\n"
"\n"
"netcat for devmem TCP: the client sends SIZE bytes of a known pattern (from\n"
"a dmabuf with --tx devmem), the server receives them into a dmabuf and\n"
"validates every byte.\n"
"\n"
"Server:\n"
"  -l, --listen           accept one connection and receive until EOF\n"
"  -a, --addr ADDR        local address, IPv4 or IPv6 (default: any)\n"
"  -p, --port PORT        TCP port (0 picks one and prints it)\n"
"  --mode MODE            devmem (default): recvmsg(MSG_SOCK_DEVMEM)\n"
"                         plain: recv() and validate\n"
"                         bounce: recv() then memcpy into the dmabuf\n"
"                         trunc: recv(MSG_TRUNC), bytes discarded\n"
"  --plain                same as --mode plain\n"
"  -i, --ifname IFNAME    device to bind the dmabuf to (devmem mode)\n"
"  -q, --queues LIST      rx queues to bind, e.g. 2, 2-3, 1,3\n"
"  -b, --dmabuf-size SIZE size of the udmabuf to create (default 64M)\n"
"  --dmabuf-fd N          use inherited dmabuf fd N instead of a udmabuf\n"
"  --lifetime LIFETIME    socket (default): the binding ends when\n"
"                         devmem-nc exits; persistent: it stays until\n"
"                         unbound with the devmem family (the id is printed)\n"
"  --netdev-bind          bind with the netdev family's bind-rx instead of\n"
"                         the devmem family's bind (lifetime socket only)\n"
"  --no-bind              do not bind (someone else bound --dmabuf-fd)\n"
"  --binding ID           do not bind: receive into existing binding ID,\n"
"                         mapping the dmabuf the devmem family's dmabuf-get\n"
"                         returns (no -i, -q, -b, --dmabuf-fd)\n"
"  --token-batch N        return dmabuf tokens N at a time (default 128)\n"
"  --hoard                never return tokens (to exhaust the dmabuf)\n"
"  --expect-efault        plain mode: succeed only if recv fails with\n"
"                         EFAULT (the flow landed on a dmabuf-bound queue)\n"
"  -s, --size SIZE        fail unless exactly SIZE bytes arrive\n"
"  --chunk N              bytes per recv call (default 1M)\n"
"  --no-validate          do not check the pattern\n"
"\n"
"Client:\n"
"  -c, --connect ADDR     server address, IPv4 or IPv6\n"
"  -p, --port PORT        server port\n"
"  -s, --size SIZE        bytes to send\n"
"  --chunk N              bytes per send call (default 64K)\n"
"  --tx MODE              copy (default): send() from a host buffer\n"
"                         devmem: sendmsg(MSG_ZEROCOPY) from a udmabuf bound\n"
"                         for tx, iovs are dmabuf offsets (SCM_DEVMEM_DMABUF)\n"
"                         bounce: memcpy from a udmabuf, then send()\n"
"                         zerocopy: sendmsg(MSG_ZEROCOPY) from a host buffer\n"
"  -b, --dmabuf-size SIZE devmem, bounce: size of the udmabuf; zerocopy: of\n"
"                         the buffer (default 64M); at most SIZE is in flight\n"
"  -i, --ifname IFNAME    devmem: device to bind the dmabuf to for tx; the\n"
"                         socket is bound to it (SO_BINDTODEVICE)\n"
"  --dmabuf-fd N          devmem: bind inherited dmabuf fd N, not a udmabuf\n"
"  --lifetime LIFETIME    devmem: socket (default) or persistent, as above\n"
"  --netdev-bind          devmem: bind with the netdev family's bind-tx\n"
"  --binding ID           devmem: do not bind, send from existing tx binding\n"
"                         ID: its dmabuf is --dmabuf-fd N if given (no\n"
"                         privilege needed), else the devmem family's\n"
"                         dmabuf-get; -i then only binds the socket\n"
"\n"
"Common:\n"
"  --timeout SEC          give up after SEC seconds without progress\n"
"                         (default 60, 0 waits forever)\n"
"  --progress             progress line on stderr every second (default\n"
"                         when stderr is a terminal)\n"
"  -j, --json             summary as one JSON object on stdout\n"
"  -h, --help             this text\n"
"\n"
"SIZE takes a K, M, G or T suffix (powers of 1024).\n"
"In devmem mode the server binds with the devmem generic netlink family\n"
"(bind: ifindex, fd, queues, direction rx, lifetime) and keeps its netlink\n"
"socket open until it exits; so does the client with --tx devmem (bind:\n"
"ifindex, fd, direction tx, lifetime).  With --tx devmem and zerocopy the\n"
"client waits for a region's completions (error queue) before it writes\n"
"the region again, and for all of them before it exits.\n"
"Exit status: 0 ok, 1 runtime error or invalid bytes, 2 usage error.\n";

/* --- option parsing ----------------------------------------------------- */

static uint64_t parse_size(const char *opt, const char *arg)
{
	unsigned long long val;
	uint64_t mult = 1;
	char *end;

	errno = 0;
	if (!*arg || *arg == '-')
		usage_error("%s: invalid size '%s'", opt, arg);
	val = strtoull(arg, &end, 10);
	if (errno || end == arg)
		usage_error("%s: invalid size '%s'", opt, arg);
	switch (*end) {
	case 'k': case 'K':
		mult = KiB;
		break;
	case 'm': case 'M':
		mult = MiB;
		break;
	case 'g': case 'G':
		mult = 1024 * MiB;
		break;
	case 't': case 'T':
		mult = 1024 * 1024 * MiB;
		break;
	case '\0':
		break;
	default:
		usage_error("%s: invalid size '%s'", opt, arg);
	}
	if (*end) {
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end)
		usage_error("%s: invalid size '%s'", opt, arg);
	if (val > UINT64_MAX / mult)
		usage_error("%s: size '%s' too large", opt, arg);
	return val * mult;
}

static unsigned long parse_uint(const char *opt, const char *arg,
				unsigned long max)
{
	unsigned long val;
	char *end;

	errno = 0;
	if (!*arg || *arg == '-')
		usage_error("%s: invalid number '%s'", opt, arg);
	val = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || val > max)
		usage_error("%s: invalid number '%s' (0..%lu)", opt, arg, max);
	return val;
}

/* "2", "2-3", "1,3", "0-1,4" */
static void parse_queues(struct opts *o, const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	unsigned int i;

	if (!copy) {
		msg("out of memory");
		exit(1);
	}
	o->nr_queues = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long first, last;
		char *dash = strchr(tok, '-');

		if (dash)
			*dash = '\0';
		first = parse_uint("-q", tok, 65535);
		last = dash ? parse_uint("-q", dash + 1, 65535) : first;
		if (last < first)
			usage_error("-q: bad queue range '%s-%s'", tok, dash + 1);
		for (; first <= last; first++) {
			for (i = 0; i < o->nr_queues; i++)
				if (o->queues[i] == first)
					usage_error("-q: queue %lu listed twice",
						    first);
			if (o->nr_queues == MAX_QUEUES)
				usage_error("-q: more than %d queues",
					    MAX_QUEUES);
			o->queues[o->nr_queues++] = first;
		}
	}
	free(copy);
	if (!o->nr_queues)
		usage_error("-q: no queues in '%s'", arg);
}

enum {
	OPT_DMABUF_FD = 256,
	OPT_NO_BIND,
	OPT_CHUNK,
	OPT_PROGRESS,
	OPT_PLAIN,
	OPT_MODE,
	OPT_TOKEN_BATCH,
	OPT_HOARD,
	OPT_TIMEOUT,
	OPT_EXPECT_EFAULT,
	OPT_NO_VALIDATE,
	OPT_NETDEV_BIND,
	OPT_LIFETIME,
	OPT_BINDING,
	OPT_TX,
};

static const struct option long_opts[] = {
	{ "listen",		no_argument,		NULL, 'l' },
	{ "connect",		required_argument,	NULL, 'c' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "addr",		required_argument,	NULL, 'a' },
	{ "ifname",		required_argument,	NULL, 'i' },
	{ "queues",		required_argument,	NULL, 'q' },
	{ "dmabuf-size",	required_argument,	NULL, 'b' },
	{ "size",		required_argument,	NULL, 's' },
	{ "json",		no_argument,		NULL, 'j' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "dmabuf-fd",		required_argument,	NULL, OPT_DMABUF_FD },
	{ "no-bind",		no_argument,		NULL, OPT_NO_BIND },
	{ "chunk",		required_argument,	NULL, OPT_CHUNK },
	{ "progress",		no_argument,		NULL, OPT_PROGRESS },
	{ "plain",		no_argument,		NULL, OPT_PLAIN },
	{ "mode",		required_argument,	NULL, OPT_MODE },
	{ "token-batch",	required_argument,	NULL, OPT_TOKEN_BATCH },
	{ "hoard",		no_argument,		NULL, OPT_HOARD },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "expect-efault",	no_argument,		NULL, OPT_EXPECT_EFAULT },
	{ "no-validate",	no_argument,		NULL, OPT_NO_VALIDATE },
	{ "netdev-bind",	no_argument,		NULL, OPT_NETDEV_BIND },
	{ "lifetime",		required_argument,	NULL, OPT_LIFETIME },
	{ "binding",		required_argument,	NULL, OPT_BINDING },
	{ "tx",			required_argument,	NULL, OPT_TX },
	{ NULL, 0, NULL, 0 },
};

static const char * const mode_opt_names[] = {
	[MODE_DEVMEM]	= "--mode devmem",
	[MODE_PLAIN]	= "--mode plain",
	[MODE_BOUNCE]	= "--mode bounce",
	[MODE_TRUNC]	= "--mode trunc",
};

static void set_mode(struct opts *o, const char *opt, enum mode mode)
{
	if (o->mode_opt && o->mode != mode)
		usage_error("%s conflicts with %s", opt, o->mode_opt);
	o->mode = mode;
	o->mode_opt = opt;
}

/* -i, -b and the binding options of the client, per --tx mode */
static void check_client_opts(const struct opts *o)
{
	const char *bad = NULL;

	if (o->tx != TX_DEVMEM) {
		if (o->ifname)
			bad = "-i";
		else if (o->netdev_bind)
			bad = "--netdev-bind";
		else if (o->lifetime_set)
			bad = "--lifetime";
		else if (o->binding_set)
			bad = "--binding";
		else if (o->dmabuf_fd >= 0)
			bad = "--dmabuf-fd";
		if (bad)
			usage_error("%s only applies to --tx devmem", bad);
	}
	if (o->tx == TX_COPY && o->dmabuf_size_set)
		usage_error("-b only applies to --tx devmem, bounce and zerocopy (--tx copy sends from a buffer of --chunk bytes)");
	if (o->dmabuf_size_set &&
	    (!o->dmabuf_size || o->dmabuf_size % sysconf(_SC_PAGESIZE)))
		usage_error("-b: size must be a non-zero multiple of the page size (%ld)",
			    sysconf(_SC_PAGESIZE));
	if (o->tx != TX_DEVMEM)
		return;

	if (o->binding_set) {
		/* the binding exists: it has its device, dmabuf, lifetime */
		if (o->dmabuf_size_set)
			usage_error("-b conflicts with --binding (no udmabuf is created: the dmabuf is the binding's own)");
		if (o->netdev_bind)
			usage_error("--netdev-bind conflicts with --binding (which never binds)");
		if (o->lifetime_set)
			usage_error("--lifetime conflicts with --binding (the binding has its own)");
	} else if (!o->ifname) {
		usage_error("-i IFNAME is required with --tx devmem (or --binding)");
	}
	if (o->netdev_bind && o->lifetime == DEVMEM_LIFETIME_PERSISTENT)
		usage_error("--lifetime persistent conflicts with --netdev-bind (bind-tx bindings end with their netlink socket)");
	if (o->dmabuf_fd >= 0 && o->dmabuf_size_set)
		usage_error("-b: the size of --dmabuf-fd is the dmabuf's own");
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	bool chunk_set = false;
	int c, i;

	memset(o, 0, sizeof(*o));
	o->dmabuf_fd = -1;
	o->dmabuf_size = 64 * MiB;
	o->token_batch = 128;
	o->timeout = 60;
	o->validate = true;
	o->lifetime = DEVMEM_LIFETIME_SOCKET;
	o->progress = isatty(STDERR_FILENO);

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":lc:p:a:i:q:b:s:jh", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = true;
			break;
		case 'c':
			o->connect_addr = optarg;
			break;
		case 'p':
			o->port = optarg;
			parse_uint("-p", optarg, 65535);
			break;
		case 'a':
			o->bind_addr = optarg;
			o->server_opt = o->server_opt ?: "-a";
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case 'q':
			o->queues_arg = optarg;
			parse_queues(o, optarg);
			o->server_opt = o->server_opt ?: "-q";
			break;
		case 'b':
			o->dmabuf_size = parse_size("-b", optarg);
			o->dmabuf_size_set = true;
			break;
		case 's':
			o->size = parse_size("-s", optarg);
			o->size_set = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case OPT_DMABUF_FD:
			o->dmabuf_fd = parse_uint("--dmabuf-fd", optarg,
						  INT_MAX);
			break;
		case OPT_NO_BIND:
			o->no_bind = true;
			o->server_opt = o->server_opt ?: "--no-bind";
			break;
		case OPT_CHUNK:
			o->chunk = parse_size("--chunk", optarg);
			chunk_set = true;
			break;
		case OPT_PROGRESS:
			o->progress = true;
			break;
		case OPT_PLAIN:
			set_mode(o, "--plain", MODE_PLAIN);
			o->server_opt = o->server_opt ?: "--plain";
			break;
		case OPT_MODE:
			for (i = 0; i < (int)ARRAY_SIZE(mode_names); i++)
				if (!strcmp(optarg, mode_names[i]))
					break;
			if (i == ARRAY_SIZE(mode_names))
				usage_error("--mode: unknown mode '%s' (devmem, plain, bounce, trunc)",
					    optarg);
			set_mode(o, mode_opt_names[i], i);
			o->server_opt = o->server_opt ?: "--mode";
			break;
		case OPT_TOKEN_BATCH:
			o->token_batch = parse_uint("--token-batch", optarg,
						    1 << 20);
			if (!o->token_batch)
				usage_error("--token-batch: must be at least 1");
			o->server_opt = o->server_opt ?: "--token-batch";
			break;
		case OPT_HOARD:
			o->hoard = true;
			o->server_opt = o->server_opt ?: "--hoard";
			break;
		case OPT_TIMEOUT:
			o->timeout = parse_uint("--timeout", optarg,
						INT_MAX / 1000);
			break;
		case OPT_EXPECT_EFAULT:
			o->expect_efault = true;
			o->server_opt = o->server_opt ?: "--expect-efault";
			break;
		case OPT_NO_VALIDATE:
			o->validate = false;
			o->server_opt = o->server_opt ?: "--no-validate";
			break;
		case OPT_NETDEV_BIND:
			o->netdev_bind = true;
			break;
		case OPT_LIFETIME:
			if (!strcmp(optarg, "persistent"))
				o->lifetime = DEVMEM_LIFETIME_PERSISTENT;
			else if (!strcmp(optarg, "socket"))
				o->lifetime = DEVMEM_LIFETIME_SOCKET;
			else
				usage_error("--lifetime: unknown lifetime '%s' (persistent, socket)",
					    optarg);
			o->lifetime_set = true;
			break;
		case OPT_BINDING:
			o->binding = parse_uint("--binding", optarg,
						UINT32_MAX);
			if (!o->binding)
				usage_error("--binding: binding ids start at 1");
			o->binding_set = true;
			break;
		case OPT_TX:
			for (i = 0; i < (int)ARRAY_SIZE(tx_names); i++)
				if (!strcmp(optarg, tx_names[i]))
					break;
			if (i == ARRAY_SIZE(tx_names))
				usage_error("--tx: unknown mode '%s' (copy, devmem, bounce, zerocopy)",
					    optarg);
			o->tx = i;
			o->client_opt = o->client_opt ?: "--tx";
			break;
		case ':':
			usage_error("option %s needs an argument",
				    argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	if (o->listen == !!o->connect_addr)
		usage_error("give exactly one of -l (server) and -c ADDR (client)");
	if (!o->port)
		usage_error("-p PORT is required");

	if (!o->listen) {
		if (o->server_opt)
			usage_error("%s is a server option (-l)",
				    o->server_opt);
		if (!o->size_set)
			usage_error("-s SIZE is required with -c");
		if (!chunk_set)
			o->chunk = 64 * KiB;
		if (!o->chunk || o->chunk > INT_MAX)
			usage_error("--chunk: must be 1..%d", INT_MAX);
		check_client_opts(o);
		return;
	}
	if (o->client_opt)
		usage_error("%s is a client option (-c)", o->client_opt);

	if (!chunk_set)
		o->chunk = MiB;
	if (!o->chunk || o->chunk > INT_MAX)
		usage_error("--chunk: must be 1..%d", INT_MAX);

	if (o->mode != MODE_DEVMEM) {
		const char *bad = NULL;

		if (o->ifname)
			bad = "-i";
		else if (o->queues_arg)
			bad = "-q";
		else if (o->no_bind)
			bad = "--no-bind";
		else if (o->hoard)
			bad = "--hoard";
		else if (o->netdev_bind)
			bad = "--netdev-bind";
		else if (o->lifetime_set)
			bad = "--lifetime";
		else if (o->binding_set)
			bad = "--binding";
		if (bad)
			usage_error("%s only applies to --mode devmem", bad);
	}
	if (o->mode == MODE_PLAIN || o->mode == MODE_TRUNC) {
		if (o->dmabuf_size_set)
			usage_error("-b: --mode %s uses no dmabuf",
				    mode_names[o->mode]);
		if (o->dmabuf_fd >= 0)
			usage_error("--dmabuf-fd: --mode %s uses no dmabuf",
				    mode_names[o->mode]);
	}
	if (o->expect_efault && o->mode != MODE_PLAIN)
		usage_error("--expect-efault needs --plain");
	if (o->binding_set) {
		/* the dmabuf and the binding both exist already */
		if (o->dmabuf_fd >= 0)
			usage_error("--dmabuf-fd conflicts with --binding (the dmabuf is the binding's own)");
		if (o->dmabuf_size_set)
			usage_error("-b conflicts with --binding (no udmabuf is created: the dmabuf is the binding's own)");
		if (o->no_bind)
			usage_error("--no-bind conflicts with --binding (which never binds)");
		if (o->netdev_bind)
			usage_error("--netdev-bind conflicts with --binding (which never binds)");
		if (o->lifetime_set)
			usage_error("--lifetime conflicts with --binding (the binding has its own)");
		if (o->ifname || o->queues_arg)
			usage_error("%s conflicts with --binding (the binding has its device and queues)",
				    o->ifname ? "-i" : "-q");
	}
	if (o->netdev_bind && o->lifetime == DEVMEM_LIFETIME_PERSISTENT)
		usage_error("--lifetime persistent conflicts with --netdev-bind (bind-rx bindings end with their netlink socket)");
	if (o->dmabuf_fd >= 0 && o->dmabuf_size_set)
		usage_error("-b: the size of --dmabuf-fd is the dmabuf's own");
	if (o->dmabuf_size_set &&
	    (!o->dmabuf_size || o->dmabuf_size % sysconf(_SC_PAGESIZE)))
		usage_error("-b: size must be a non-zero multiple of the page size (%ld)",
			    sysconf(_SC_PAGESIZE));

	if (o->mode == MODE_DEVMEM) {
		if (o->no_bind) {
			if (o->dmabuf_fd < 0)
				usage_error("--no-bind needs --dmabuf-fd (the dmabuf someone else bound)");
			if (o->ifname || o->queues_arg)
				usage_error("%s: --no-bind makes no binding",
					    o->ifname ? "-i" : "-q");
			if (o->netdev_bind)
				usage_error("--netdev-bind: --no-bind makes no binding");
			if (o->lifetime_set)
				usage_error("--lifetime: --no-bind makes no binding");
		} else if (!o->binding_set) {
			if (!o->ifname)
				usage_error("-i IFNAME is required in devmem mode (or --no-bind, --binding)");
			if (!o->queues_arg)
				usage_error("-q QUEUES is required in devmem mode (or --no-bind, --binding)");
		}
	}
}

/* --- dmabuf ------------------------------------------------------------- */

static int udmabuf_create(uint64_t size)
{
	struct udmabuf_create create = {
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.size = size,
	};
	int devfd, memfd, fd, err;

	devfd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		return fail("/dev/udmabuf: %s (is CONFIG_UDMABUF enabled and the module loaded?)",
			    strerror(errno));

	memfd = memfd_create("devmem-nc", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0) {
		err = errno;
		close(devfd);
		return fail("memfd_create: %s", strerror(err));
	}
	if (ftruncate(memfd, size) < 0) {
		err = errno;
		fd = fail("memfd: cannot size it to %" PRIu64 " bytes: %s",
			  size, strerror(err));
		goto out;
	}
	/* udmabuf refuses a memfd that could shrink under the dmabuf */
	if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		err = errno;
		fd = fail("memfd: F_SEAL_SHRINK: %s", strerror(err));
		goto out;
	}
	create.memfd = memfd;
	fd = ioctl(devfd, UDMABUF_CREATE, &create);
	if (fd < 0) {
		char limit[32] = "";
		FILE *f;

		err = errno;
		f = fopen("/sys/module/udmabuf/parameters/size_limit_mb", "r");
		if (f) {
			if (!fgets(limit, sizeof(limit), f))
				limit[0] = '\0';
			limit[strcspn(limit, "\n")] = '\0';
			fclose(f);
		}
		if (err == EINVAL && limit[0] &&
		    size > strtoull(limit, NULL, 10) * MiB)
			fd = fail("UDMABUF_CREATE of %" PRIu64 " bytes: %s (udmabuf.size_limit_mb is %s)",
				  size, strerror(err), limit);
		else
			fd = fail("UDMABUF_CREATE of %" PRIu64 " bytes: %s",
				  size, strerror(err));
	}
out:
	/* the dmabuf holds its own references to the memfd's pages */
	close(memfd);
	close(devfd);
	return fd;
}

static int dmabuf_map(struct dmabuf *db, const struct opts *o)
{
	int prot = PROT_READ;

	/* the bounce server copies into it, the client writes the pattern */
	if (o->mode == MODE_BOUNCE || !o->listen)
		prot |= PROT_WRITE;
	db->map = mmap(NULL, db->size, prot, MAP_SHARED, db->fd, 0);
	if (db->map == MAP_FAILED) {
		db->map = NULL;
		return fail("mmap of the dmabuf (%" PRIu64 " bytes): %s",
			    db->size, strerror(errno));
	}
	return 0;
}

static int dmabuf_setup(struct dmabuf *db, const struct opts *o)
{
	if (o->dmabuf_fd >= 0) {
		off_t end;

		if (fcntl(o->dmabuf_fd, F_GETFD) < 0)
			return fail("--dmabuf-fd %d: %s", o->dmabuf_fd,
				    strerror(errno));
		/* dma-buf files report their size through SEEK_END */
		end = lseek(o->dmabuf_fd, 0, SEEK_END);
		if (end <= 0)
			return fail("--dmabuf-fd %d: not a dmabuf (cannot get its size: %s)",
				    o->dmabuf_fd,
				    end < 0 ? strerror(errno) : "size 0");
		db->fd = o->dmabuf_fd;
		db->own_fd = false;
		db->size = end;
	} else {
		db->fd = udmabuf_create(o->dmabuf_size);
		if (db->fd < 0)
			return -1;
		db->own_fd = true;
		db->size = o->dmabuf_size;
	}
	return dmabuf_map(db, o);
}

static void dmabuf_teardown(struct dmabuf *db)
{
	if (db->map)
		munmap(db->map, db->size);
	if (db->own_fd && db->fd >= 0)
		close(db->fd);
}

static int dmabuf_sync(struct dmabuf *db, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	while (ioctl(db->fd, DMA_BUF_IOCTL_SYNC, &sync) < 0) {
		if (errno != EINTR && errno != EAGAIN)
			return fail("DMA_BUF_IOCTL_SYNC %s: %s",
				    flags & DMA_BUF_SYNC_END ? "END" : "START",
				    strerror(errno));
	}
	return 0;
}

/* --- generic netlink ------------------------------------------------------ */

static const char * const lifetime_names[] = {
	[DEVMEM_LIFETIME_PERSISTENT]	= "persistent",
	[DEVMEM_LIFETIME_SOCKET]	= "socket",
};

/* Appended to the message of a request that failed with err. */
struct errno_hint {
	int err;
	const char *hint;
};

/* One do request and what came back for it. */
struct nl_req {
	const char *what;		/* names the op in messages */
	const struct errno_hint *hints;	/* ends with { 0, NULL } */
	/* called with the attributes of each reply message */
	void (*reply)(struct nlattr *attrs, int len, void *arg);
	void *arg;
	bool done;
	int err;		/* errno from the kernel, 0 on success */
	char extack[256];
	int miss_type;		/* missing attribute, -1 if none */
	bool bad_attr;
};

static int req_valid_cb(struct nl_msg *nlmsg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(nlmsg);
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	struct nl_req *req = arg;

	if (!genlmsg_valid_hdr(nlh, 0))
		return NL_SKIP;
	if (req->reply)
		req->reply(genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0),
			   req->arg);
	return NL_OK;
}

static int req_ack_cb(struct nl_msg *nlmsg, void *arg)
{
	struct nl_req *req = arg;

	req->done = true;
	return NL_STOP;
}

/* Pull the extack TLVs (NETLINK_EXT_ACK) out of an error message. */
static int req_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nl_req *req = arg;
	size_t off = sizeof(*e);

	req->done = true;
	req->err = -e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	if (nlh->nlmsg_len < NLMSG_HDRLEN + off)
		return NL_STOP;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (void *)((char *)e + off),
		      nlh->nlmsg_len - NLMSG_HDRLEN - off, NULL))
		return NL_STOP;
	if (tb[NLMSGERR_ATTR_MSG]) {
		int len = strnlen(nla_data(tb[NLMSGERR_ATTR_MSG]),
				  nla_len(tb[NLMSGERR_ATTR_MSG]));

		snprintf(req->extack, sizeof(req->extack), "%.*s", len,
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
		req->extack[strcspn(req->extack, "\n")] = '\0';
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		req->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	if (tb[NLMSGERR_ATTR_OFFS])
		req->bad_attr = true;
	return NL_STOP;
}

/*
 * Send a request and read until its ack or error.  A kernel error is
 * reported with its extack message (or strerror), its errno name and the
 * request's hint.  Returns 0 or -1 (reported).
 */
static int nl_request(struct nl_sock *sk, struct nl_msg *nlmsg,
		      struct nl_req *req)
{
	struct nl_cb *cb;
	int ret, err = 0;

	req->miss_type = -1;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return fail("%s: out of memory", req->what);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, req_valid_cb, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, req_ack_cb, req);
	nl_cb_err(cb, NL_CB_CUSTOM, req_err_cb, req);

	ret = nl_send_auto(sk, nlmsg);
	if (ret < 0) {
		err = fail("%s: send: %s", req->what, nl_geterror(ret));
		goto out;
	}
	while (!req->done) {
		ret = nl_recvmsgs(sk, cb);
		if (ret < 0 && !req->err) {
			err = fail("%s: %s", req->what, nl_geterror(ret));
			goto out;
		}
		if (ret < 0)
			break;
	}

	if (req->err) {
		const char *what = req->extack[0] ? req->extack :
				   errno_str(req->err);
		const struct errno_hint *h = req->hints;
		char extra[64] = "";

		while (h && h->hint && h->err != req->err)
			h++;
		if (req->miss_type >= 0)
			snprintf(extra, sizeof(extra),
				 "; missing attribute %d", req->miss_type);
		else if (req->bad_attr && !req->extack[0])
			snprintf(extra, sizeof(extra),
				 "; the kernel flagged an attribute");
		err = fail("%s: %s (%s)%s%s", req->what, what,
			   errno_name(req->err), extra,
			   h && h->hint ? h->hint : "");
	}
out:
	nl_cb_put(cb);
	return err;
}

/*
 * A generic netlink socket with extended acks, and the id of family NAME.
 * MISSING is appended to the message when the kernel has no such family.
 */
static struct nl_sock *genl_open(const char *name, int *family,
				 const char *missing)
{
	struct nl_sock *sk;
	int one = 1, ret;

	sk = nl_socket_alloc();
	if (!sk) {
		fail("%s: cannot allocate a netlink socket", name);
		return NULL;
	}
	ret = genl_connect(sk);
	if (ret < 0) {
		fail("%s: generic netlink: %s", name, nl_geterror(ret));
		goto err;
	}
	/* libnl 3.7 has no helper for these; set them on the fd */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));

	ret = genl_ctrl_resolve(sk, name);
	if (ret == -NLE_OBJ_NOTFOUND) {
		fail("kernel has no %s family (generic netlink family \"%s\" not found)%s",
		     name, name, missing);
		goto err;
	}
	if (ret < 0) {
		fail("generic netlink family \"%s\": %s", name,
		     nl_geterror(ret));
		goto err;
	}
	*family = ret;
	return sk;
err:
	nl_socket_free(sk);
	return NULL;
}

/* One u32 attribute of a reply. */
struct u32_reply {
	int type;
	bool have;
	bool bad;		/* not 4 bytes long */
	uint32_t val;
};

static void u32_reply_cb(struct nlattr *attrs, int len, void *arg)
{
	struct u32_reply *r = arg;
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, attrs, len, rem) {
		if (nla_type(a) != r->type)
			continue;
		if (nla_len(a) != sizeof(uint32_t)) {
			r->bad = true;
			continue;
		}
		r->val = nla_get_u32(a);
		r->have = true;
	}
}

/* What binding-get says about a binding. */
struct binding_info {
	bool bad;		/* an attribute of the wrong size */
	bool have_ifindex, have_direction, have_state, have_size;
	uint32_t ifindex, direction, state;
	uint64_t size;
	char queues[128];
};

static void binding_info_cb(struct nlattr *attrs, int len, void *arg)
{
	struct binding_info *bi = arg;
	struct nlattr *a;
	size_t pos;
	int rem;

	nla_for_each_attr(a, attrs, len, rem) {
		int type = nla_type(a), alen = nla_len(a);
		uint32_t val = 0;

		if (type == DEVMEM_A_BINDING_DMABUF_SIZE) {
			/* a YNL "uint": 4 or 8 bytes */
			if (alen == 4)
				bi->size = nla_get_u32(a);
			else if (alen == 8)
				bi->size = nla_get_u64(a);
			else
				bi->bad = true;
			bi->have_size = alen == 4 || alen == 8;
			continue;
		}
		if (type != DEVMEM_A_BINDING_IFINDEX &&
		    type != DEVMEM_A_BINDING_QUEUES &&
		    type != DEVMEM_A_BINDING_DIRECTION &&
		    type != DEVMEM_A_BINDING_STATE)
			continue;
		if (alen != sizeof(uint32_t)) {
			bi->bad = true;
			continue;
		}
		val = nla_get_u32(a);
		switch (type) {
		case DEVMEM_A_BINDING_IFINDEX:
			bi->ifindex = val;
			bi->have_ifindex = true;
			break;
		case DEVMEM_A_BINDING_QUEUES:
			pos = strlen(bi->queues);
			snprintf(bi->queues + pos, sizeof(bi->queues) - pos,
				 "%s%u", pos ? "," : "", val);
			break;
		case DEVMEM_A_BINDING_DIRECTION:
			bi->direction = val;
			bi->have_direction = true;
			break;
		case DEVMEM_A_BINDING_STATE:
			bi->state = val;
			bi->have_state = true;
			break;
		}
	}
}

#define HINT_ADMIN(who)	{ EPERM, "; " who " needs CAP_NET_ADMIN" }
#define HINT_DEVICE	{ EOPNOTSUPP, "; the device cannot restart queues or take a memory provider" }

static const struct errno_hint bind_rx_hints[] = {
	HINT_ADMIN("bind-rx"), HINT_DEVICE, { 0, NULL },
};

static const struct errno_hint bind_tx_hints[] = {
	HINT_ADMIN("bind-tx"), { 0, NULL },
};

static const struct errno_hint devmem_bind_hints[] = {
	HINT_ADMIN("the devmem family"), HINT_DEVICE, { 0, NULL },
};

static const struct errno_hint devmem_bind_tx_hints[] = {
	HINT_ADMIN("the devmem family"), { 0, NULL },
};

static const struct errno_hint devmem_id_hints[] = {
	HINT_ADMIN("the devmem family"),
	{ ENOENT, "; no binding with that id in this network namespace" },
	{ 0, NULL },
};

/* netdev bind-rx: the queues are nested (id, type) pairs. */
static int put_bind_rx(struct nl_msg *nlmsg, int family, const struct opts *o,
		       unsigned int ifindex, int dmabuf_fd)
{
	unsigned int i;

	if (!genlmsg_put(nlmsg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 NETDEV_CMD_BIND_RX, NETDEV_FAMILY_VERSION) ||
	    nla_put_u32(nlmsg, NETDEV_A_DMABUF_IFINDEX, ifindex) ||
	    nla_put_u32(nlmsg, NETDEV_A_DMABUF_FD, dmabuf_fd))
		return -1;
	for (i = 0; i < o->nr_queues; i++) {
		struct nlattr *nest;

		nest = nla_nest_start(nlmsg, NETDEV_A_DMABUF_QUEUES |
					     NLA_F_NESTED);
		if (!nest ||
		    nla_put_u32(nlmsg, NETDEV_A_QUEUE_ID, o->queues[i]) ||
		    nla_put_u32(nlmsg, NETDEV_A_QUEUE_TYPE,
				NETDEV_QUEUE_TYPE_RX))
			return -1;
		nla_nest_end(nlmsg, nest);
	}
	return 0;
}

/* netdev bind-tx: the device and the dmabuf, no queues. */
static int put_bind_tx(struct nl_msg *nlmsg, int family, unsigned int ifindex,
		       int dmabuf_fd)
{
	if (!genlmsg_put(nlmsg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 NETDEV_CMD_BIND_TX, NETDEV_FAMILY_VERSION) ||
	    nla_put_u32(nlmsg, NETDEV_A_DMABUF_IFINDEX, ifindex) ||
	    nla_put_u32(nlmsg, NETDEV_A_DMABUF_FD, dmabuf_fd))
		return -1;
	return 0;
}

/*
 * devmem bind: one flat u32 queues attribute per queue for rx; a tx binding
 * (the client's) has none.
 */
static int put_devmem_bind(struct nl_msg *nlmsg, int family,
			   const struct opts *o, unsigned int ifindex,
			   int dmabuf_fd)
{
	unsigned int i;

	if (!genlmsg_put(nlmsg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 DEVMEM_CMD_BIND, DEVMEM_FAMILY_VERSION) ||
	    nla_put_u32(nlmsg, DEVMEM_A_BINDING_IFINDEX, ifindex) ||
	    nla_put_u32(nlmsg, DEVMEM_A_BINDING_FD, dmabuf_fd))
		return -1;
	for (i = 0; o->listen && i < o->nr_queues; i++)
		if (nla_put_u32(nlmsg, DEVMEM_A_BINDING_QUEUES, o->queues[i]))
			return -1;
	if (nla_put_u32(nlmsg, DEVMEM_A_BINDING_DIRECTION,
			o->listen ? DEVMEM_DIRECTION_RX :
				    DEVMEM_DIRECTION_TX) ||
	    nla_put_u32(nlmsg, DEVMEM_A_BINDING_LIFETIME, o->lifetime))
		return -1;
	return 0;
}

/*
 * Bind the dmabuf, with the devmem family (or the netdev family's bind-rx
 * or bind-tx with --netdev-bind): the server to its rx queues, the client
 * for transmit on its device.  A binding of lifetime socket lives as long
 * as the returned socket, so the caller keeps it open until it is done
 * receiving, or until its last send has completed.
 */
static struct nl_sock *bind_dmabuf(const struct opts *o, int dmabuf_fd,
				   uint32_t *id)
{
	bool tx = !o->listen;
	struct u32_reply rep = {
		.type = o->netdev_bind ? NETDEV_A_DMABUF_ID :
					 DEVMEM_A_BINDING_ID,
	};
	struct nl_req req = {
		.what = o->netdev_bind ? (tx ? "bind-tx" : "bind-rx") :
					 "devmem bind",
		.hints = o->netdev_bind ? (tx ? bind_tx_hints : bind_rx_hints) :
					  (tx ? devmem_bind_tx_hints :
						devmem_bind_hints),
		.reply = u32_reply_cb,
		.arg = &rep,
	};
	struct nl_msg *nlmsg = NULL;
	struct nl_sock *sk;
	unsigned int ifindex;
	int family, ret;

	ifindex = if_nametoindex(o->ifname);
	if (!ifindex) {
		fail("-i %s: %s", o->ifname, strerror(errno));
		return NULL;
	}

	if (o->netdev_bind)
		sk = genl_open(NETDEV_FAMILY_NAME, &family, "");
	else
		sk = genl_open(DEVMEM_FAMILY_NAME, &family, tx ?
			       "; --netdev-bind binds with the netdev family's bind-tx" :
			       "; --netdev-bind binds with the netdev family's bind-rx");
	if (!sk)
		return NULL;

	nlmsg = nlmsg_alloc();
	if (!nlmsg)
		ret = -1;
	else if (o->netdev_bind && tx)
		ret = put_bind_tx(nlmsg, family, ifindex, dmabuf_fd);
	else if (o->netdev_bind)
		ret = put_bind_rx(nlmsg, family, o, ifindex, dmabuf_fd);
	else
		ret = put_devmem_bind(nlmsg, family, o, ifindex, dmabuf_fd);
	if (ret) {
		fail("%s: cannot build the request", req.what);
		goto err;
	}

	if (nl_request(sk, nlmsg, &req))
		goto err;
	if (!rep.have) {
		fail("%s: the kernel's reply carries no %s", req.what,
		     rep.bad ? "well-formed binding id" : "binding id");
		goto err;
	}
	*id = rep.val;
	nlmsg_free(nlmsg);
	return sk;

err:
	nlmsg_free(nlmsg);
	nl_socket_free(sk);
	return NULL;
}

/* A devmem request that carries only a binding id. */
static struct nl_msg *devmem_id_msg(int family, uint8_t cmd, uint32_t id)
{
	struct nl_msg *nlmsg = nlmsg_alloc();

	if (!nlmsg)
		return NULL;
	if (!genlmsg_put(nlmsg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd,
			 DEVMEM_FAMILY_VERSION) ||
	    nla_put_u32(nlmsg, DEVMEM_A_BINDING_ID, id)) {
		nlmsg_free(nlmsg);
		return NULL;
	}
	return nlmsg;
}

/*
 * --binding ID: receive into (or, the client, send from) a binding someone
 * else made.  binding-get says what it is bound to; dmabuf-get installs a
 * new fd of its dmabuf in this process, which is mapped like our own
 * udmabuf.
 */
static int binding_attach(const struct opts *o, struct dmabuf *db)
{
	uint32_t want = o->listen ? DEVMEM_DIRECTION_RX : DEVMEM_DIRECTION_TX;
	struct binding_info bi = { 0 };
	struct u32_reply fdrep = { .type = DEVMEM_A_BINDING_FD };
	struct nl_req get = {
		.what = "devmem binding-get",
		.hints = devmem_id_hints,
		.reply = binding_info_cb,
		.arg = &bi,
	};
	struct nl_req dget = {
		.what = "devmem dmabuf-get",
		.hints = devmem_id_hints,
		.reply = u32_reply_cb,
		.arg = &fdrep,
	};
	char ifname[IF_NAMESIZE] = "?";
	struct nl_msg *nlmsg = NULL;
	struct nl_sock *sk;
	int family, err = -1;
	off_t end;

	sk = genl_open(DEVMEM_FAMILY_NAME, &family, "");
	if (!sk)
		return -1;

	nlmsg = devmem_id_msg(family, DEVMEM_CMD_BINDING_GET, o->binding);
	if (!nlmsg) {
		fail("%s: cannot build the request", get.what);
		goto out;
	}
	if (nl_request(sk, nlmsg, &get))
		goto out;
	nlmsg_free(nlmsg);
	nlmsg = NULL;
	if (bi.bad) {
		fail("%s: an attribute of the reply has the wrong size",
		     get.what);
		goto out;
	}
	if (bi.have_direction && bi.direction != want) {
		fail("--binding %u: not %s binding (direction %s)",
		     o->binding, o->listen ? "an rx" : "a tx",
		     bi.direction == DEVMEM_DIRECTION_RX ? "rx" :
		     bi.direction == DEVMEM_DIRECTION_TX ? "tx" : "unknown");
		goto out;
	}

	nlmsg = devmem_id_msg(family, DEVMEM_CMD_DMABUF_GET, o->binding);
	if (!nlmsg) {
		fail("%s: cannot build the request", dget.what);
		goto out;
	}
	if (nl_request(sk, nlmsg, &dget))
		goto out;
	if (!fdrep.have) {
		fail("%s: the kernel's reply carries no %s", dget.what,
		     fdrep.bad ? "well-formed fd" : "fd");
		goto out;
	}
	/* the kernel installed it in this process: ours to close */
	db->fd = fdrep.val;
	db->own_fd = true;

	/* dma-buf files report their size through SEEK_END */
	end = lseek(db->fd, 0, SEEK_END);
	if (end <= 0) {
		fail("%s: fd %d is not a dmabuf (cannot get its size: %s)",
		     dget.what, db->fd, end < 0 ? strerror(errno) : "size 0");
		goto out;
	}
	db->size = end;
	if (bi.have_size && bi.size != db->size) {
		fail("--binding %u: the dmabuf fd is %" PRIu64 " bytes, binding-get says %" PRIu64,
		     o->binding, db->size, bi.size);
		goto out;
	}
	if (bi.have_ifindex && !if_indextoname(bi.ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "?");
	if (o->listen)
		msg("using binding %u: dmabuf fd %d (%" PRIu64 " bytes), bound to %s (ifindex %u) rx queues %s",
		    o->binding, db->fd, db->size, ifname, bi.ifindex,
		    bi.queues[0] ? bi.queues : "?");
	else
		msg("using binding %u: dmabuf fd %d (%" PRIu64 " bytes), bound to %s (ifindex %u) for tx",
		    o->binding, db->fd, db->size, ifname, bi.ifindex);
	if (bi.have_state && bi.state == DEVMEM_STATE_DRAINING)
		msg(o->listen ?
		    "warning: binding %u is draining (unbound): no new packets land in its dmabuf" :
		    "warning: binding %u is draining (unbound): sendmsg will refuse it",
		    o->binding);
	err = dmabuf_map(db, o);
out:
	nlmsg_free(nlmsg);
	nl_socket_free(sk);
	return err;
}

/* --- sockets ------------------------------------------------------------ */

static void set_timeouts(int fd, int timeout)
{
	struct timeval tv = { .tv_sec = timeout };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	getnameinfo(sa, sa->sa_family == AF_INET6 ?
			sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in),
		    host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", host, port);
	else
		snprintf(buf, len, "%s:%s", host, port);
}

static int listen_on(const struct opts *o)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai, *res;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char where[80];
	int fd = -1, err = 0, one = 1, zero = 0;

	/* with no address, prefer a dual-stack IPv6 socket */
	if (!o->bind_addr)
		hints.ai_family = AF_INET6;
	err = getaddrinfo(o->bind_addr, o->port, &hints, &res);
	if (err && !o->bind_addr) {
		hints.ai_family = AF_INET;
		err = getaddrinfo(NULL, o->port, &hints, &res);
	}
	if (err)
		return fail("-a %s: %s", o->bind_addr ?: "any",
			    gai_strerror(err));

	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && !o->bind_addr)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 1))
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0 && !o->bind_addr && err == EAFNOSUPPORT) {
		struct opts v4 = *o;

		v4.bind_addr = "0.0.0.0";
		return listen_on(&v4);
	}
	if (fd < 0)
		return fail("listen on %s port %s: %s", o->bind_addr ?: "any",
			    o->port, strerror(err));

	if (!getsockname(fd, (struct sockaddr *)&ss, &sslen)) {
		format_addr((struct sockaddr *)&ss, where, sizeof(where));
		msg("listening on %s", where);
	}
	return fd;
}

static int accept_one(int lfd, int timeout)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char peer[80];
	int ret, fd;

	do {
		ret = poll(&pfd, 1, timeout ? timeout * 1000 : -1);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return fail("poll: %s", strerror(errno));
	if (!ret)
		return fail("accept: no connection within %d s", timeout);
	fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
	if (fd < 0)
		return fail("accept: %s", strerror(errno));
	format_addr((struct sockaddr *)&ss, peer, sizeof(peer));
	msg("connection from %s", peer);
	set_timeouts(fd, timeout);
	return fd;
}

/* --- validation and progress --------------------------------------------- */

static void validate(struct stats *st, const struct opts *o, const void *buf,
		     uint64_t off, size_t len, const char *where,
		     uint64_t where_off)
{
	uint64_t first = 0;
	size_t bad;

	if (!o->validate || !len)
		return;
	bad = devmem_pattern_check(buf, off, len, &first);
	if (!bad)
		return;
	if (!st->errors)
		st->first_bad = first;
	if (st->errors < MAX_REPORTED_MISMATCHES) {
		const uint8_t *p = buf;

		msg("mismatch at stream offset %" PRIu64 " (%s %" PRIu64 "): got 0x%02x, expected 0x%02x; %zu of %zu bytes differ",
		    first, where, where_off + (first - off),
		    p[first - off], devmem_pattern_byte(first), bad, len);
	}
	st->errors += bad;
}

struct progress {
	bool on;
	bool tty;
	double start;
	double last;
	uint64_t last_bytes;
};

static void progress_init(struct progress *p, const struct opts *o)
{
	p->on = o->progress;
	p->tty = isatty(STDERR_FILENO);
	p->start = now();
	p->last = p->start;
	p->last_bytes = 0;
}

static void progress_tick(struct progress *p, const char *verb,
			  uint64_t bytes, uint64_t total)
{
	double t;

	if (!p->on)
		return;
	t = now();
	if (t - p->last < 1.0)
		return;
	if (total)
		fprintf(stderr, "devmem-nc: %s %" PRIu64 " of %" PRIu64 " MiB (%.0f%%), %.1f MB/s%s",
			verb, bytes / MiB, total / MiB, 100.0 * bytes / total,
			(bytes - p->last_bytes) / (t - p->last) / 1e6,
			p->tty ? "   \r" : "\n");
	else
		fprintf(stderr, "devmem-nc: %s %" PRIu64 " MiB, %.1f MB/s%s",
			verb, bytes / MiB,
			(bytes - p->last_bytes) / (t - p->last) / 1e6,
			p->tty ? "   \r" : "\n");
	p->last = t;
	p->last_bytes = bytes;
}

static void progress_done(struct progress *p)
{
	if (p->on && p->tty && p->last != p->start)
		fputc('\n', stderr);
}

/* --- devmem receive ------------------------------------------------------ */

static int tokens_add(struct token_batch *tb, uint32_t token)
{
	struct dmabuf_token *last;

	tb->frags++;
	if (tb->nr_runs) {
		last = &tb->runs[tb->nr_runs - 1];
		if (last->token_start + last->token_count == token &&
		    last->token_count < DONTNEED_MAX_FRAGS) {
			last->token_count++;
			return 0;
		}
	}
	if (tb->nr_runs == tb->cap) {
		size_t cap = tb->cap ? tb->cap * 2 : 256;
		void *runs = realloc(tb->runs, cap * sizeof(*tb->runs));

		if (!runs)
			return fail("out of memory holding %" PRIu64 " tokens",
				    tb->frags);
		tb->runs = runs;
		tb->cap = cap;
	}
	tb->runs[tb->nr_runs].token_start = token;
	tb->runs[tb->nr_runs].token_count = 1;
	tb->nr_runs++;
	return 0;
}

/* Hand every held token back, within the kernel's per-call limits. */
static int tokens_return(int fd, struct token_batch *tb, struct stats *st)
{
	struct dmabuf_token call[DONTNEED_MAX_TOKENS];
	size_t r = 0;
	uint32_t done_in_run = 0;

	while (r < tb->nr_runs) {
		unsigned int n = 0, frags = 0;
		int ret;

		while (r < tb->nr_runs && n < DONTNEED_MAX_TOKENS &&
		       frags < DONTNEED_MAX_FRAGS) {
			struct dmabuf_token *run = &tb->runs[r];
			uint32_t left = run->token_count - done_in_run;
			uint32_t take = DONTNEED_MAX_FRAGS - frags;

			if (take > left)
				take = left;
			call[n].token_start = run->token_start + done_in_run;
			call[n].token_count = take;
			n++;
			frags += take;
			done_in_run += take;
			if (done_in_run == run->token_count) {
				r++;
				done_in_run = 0;
			}
		}
		ret = setsockopt(fd, SOL_SOCKET, SO_DEVMEM_DONTNEED, call,
				 n * sizeof(call[0]));
		if (ret < 0)
			return fail("SO_DEVMEM_DONTNEED: %s (%s)",
				    strerror(errno), errno_name(errno));
		st->tokens_returned += ret;
		st->tokens_held -= frags;
		if ((unsigned int)ret != frags)
			return fail("SO_DEVMEM_DONTNEED freed %d of %u tokens",
				    ret, frags);
	}
	tb->nr_runs = 0;
	tb->frags = 0;
	st->held_bytes = 0;
	return 0;
}

static int recv_error(const struct opts *o, const struct dmabuf *db,
		      const struct stats *st, int err)
{
	switch (err) {
	case EAGAIN:
		if (o->mode == MODE_DEVMEM && st->tokens_held &&
		    (o->hoard || st->held_bytes * 2 >= db->size))
			return fail("dmabuf exhausted: %" PRIu64 " tokens held (%" PRIu64 " of %" PRIu64 " dmabuf bytes); no data for %d s after %" PRIu64 " bytes",
				    st->tokens_held, st->held_bytes, db->size,
				    o->timeout, st->bytes);
		return fail("recv: no data for %d s after %" PRIu64 " bytes (timeout)",
			    o->timeout, st->bytes);
	case ENOBUFS:
	case ENOMEM:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: %s: dmabuf exhausted: %" PRIu64 " tokens held",
				    strerror(err), st->tokens_held);
		break;
	case EFAULT:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: %s (EFAULT) after %" PRIu64 " bytes: linear copy failed or the skb chain ended early",
				    strerror(err), st->bytes);
		/* tcp_recvmsg_locked: devmem skb without MSG_SOCK_DEVMEM */
		return fail("recv: %s (EFAULT) after %" PRIu64 " bytes: the flow is on a dmabuf-bound rx queue; only devmem mode can read it",
			    strerror(err), st->bytes);
	case ENODEV:
		if (o->mode == MODE_DEVMEM)
			return fail("recvmsg: %s (ENODEV): a devmem skb carries readable frags (kernel bug)",
				    strerror(err));
		break;
	case ERRNO_ETOOSMALL:
		return fail("recvmsg: control buffer too small for one devmem cmsg (ETOOSMALL)");
	}
	return fail("recv: %s (%s) after %" PRIu64 " bytes", errno_str(err),
		    errno_name(err), st->bytes);
}

/*
 * Walk the cmsgs of one devmem recvmsg in stream order: linear bytes are
 * consumed from the front of the iov, dmabuf bytes are read in place.
 */
static int devmem_one(int fd, const struct opts *o, struct dmabuf *db,
		      struct stats *st, struct token_batch *tb,
		      struct msghdr *m, size_t ret, const uint8_t *buf,
		      size_t buf_len)
{
	uint64_t off = st->bytes, described = 0;
	size_t lin_pos = 0;
	bool synced = false, devmem = false;
	struct cmsghdr *cm;
	int err = 0;

	if (m->msg_flags & MSG_CTRUNC)
		return fail("recvmsg: control data truncated (MSG_CTRUNC)");

	for (cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		struct dmabuf_cmsg dc;

		if (cm->cmsg_level != SOL_SOCKET ||
		    (cm->cmsg_type != SCM_DEVMEM_LINEAR &&
		     cm->cmsg_type != SCM_DEVMEM_DMABUF))
			continue;
		if (cm->cmsg_len < CMSG_LEN(sizeof(dc))) {
			err = fail("recvmsg: short devmem cmsg (%zu bytes)",
				   (size_t)cm->cmsg_len);
			break;
		}
		memcpy(&dc, CMSG_DATA(cm), sizeof(dc));
		devmem = true;

		if (cm->cmsg_type == SCM_DEVMEM_LINEAR) {
			if (dc.frag_size > buf_len - lin_pos) {
				err = fail("recvmsg: linear frag of %u bytes overruns the %zu-byte buffer at %zu",
					   dc.frag_size, buf_len, lin_pos);
				break;
			}
			validate(st, o, buf + lin_pos, off + described,
				 dc.frag_size, "linear, buffer offset",
				 lin_pos);
			lin_pos += dc.frag_size;
			st->linear_bytes += dc.frag_size;
			/* the kernel copied these into buf */
			st->copied_bytes += dc.frag_size;
			st->linear_frags++;
			described += dc.frag_size;
			continue;
		}

		if (!st->have_dmabuf_id) {
			/* --no-bind: the binding is someone else's */
			st->dmabuf_id = dc.dmabuf_id;
			st->have_dmabuf_id = true;
		} else if (dc.dmabuf_id != st->dmabuf_id) {
			err = fail("recvmsg: frag from dmabuf id %u, expected %u",
				   dc.dmabuf_id, st->dmabuf_id);
			break;
		}
		if (dc.frag_offset > db->size ||
		    dc.frag_size > db->size - dc.frag_offset) {
			err = fail("recvmsg: frag [%llu, +%u) lies outside the %" PRIu64 "-byte dmabuf",
				   (unsigned long long)dc.frag_offset,
				   dc.frag_size, db->size);
			break;
		}
		if (o->validate && !synced) {
			err = dmabuf_sync(db, DMA_BUF_SYNC_START |
					      DMA_BUF_SYNC_READ);
			if (err)
				break;
			synced = true;
		}
		validate(st, o, db->map + dc.frag_offset, off + described,
			 dc.frag_size, "dmabuf offset", dc.frag_offset);
		st->dmabuf_bytes += dc.frag_size;
		st->dmabuf_frags++;
		described += dc.frag_size;
		st->tokens_held++;
		st->held_bytes += dc.frag_size;
		err = tokens_add(tb, dc.frag_token);
		if (err)
			break;
	}
	if (synced && dmabuf_sync(db, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ))
		err = -1;
	if (err)
		return err;

	if (!devmem) {
		/* the flow came in on a queue with no dmabuf bound */
		validate(st, o, buf, off, ret, "plain, buffer offset", 0);
		st->plain_bytes += ret;
		st->copied_bytes += ret;
	} else if (described != ret) {
		return fail("recvmsg returned %zu bytes but its cmsgs describe %" PRIu64,
			    ret, described);
	}
	st->bytes += ret;

	if (!o->hoard && tb->frags >= o->token_batch)
		return tokens_return(fd, tb, st);
	return 0;
}

static int recv_devmem(int fd, const struct opts *o, struct dmabuf *db,
		       struct stats *st)
{
	/* room for one cmsg per 64 bytes of data, far more than frags */
	size_t buf_len = o->chunk;
	size_t ctrl_len = CMSG_SPACE(sizeof(struct dmabuf_cmsg)) *
			  (buf_len / 64 + 64);
	struct token_batch tb = { 0 };
	struct progress pg;
	uint8_t *buf, *ctrl;
	int err = 0;

	buf = malloc(buf_len);
	ctrl = malloc(ctrl_len);
	if (!buf || !ctrl) {
		err = fail("out of memory");
		goto out;
	}

	progress_init(&pg, o);
	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = buf_len };
		struct msghdr m = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctrl,
			.msg_controllen = ctrl_len,
		};
		ssize_t ret;

		ret = recvmsg(fd, &m, MSG_SOCK_DEVMEM);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			err = recv_error(o, db, st, errno);
			break;
		}
		if (!ret)
			break;
		err = devmem_one(fd, o, db, st, &tb, &m, ret, buf, buf_len);
		if (err)
			break;
		progress_tick(&pg, "received", st->bytes, o->size);
	}
	progress_done(&pg);
	if (!err && !o->hoard)
		err = tokens_return(fd, &tb, st);
out:
	free(tb.runs);
	free(ctrl);
	free(buf);
	return err;
}

/* --- plain, bounce, trunc receive --------------------------------------- */

static int recv_plain(int fd, const struct opts *o, struct dmabuf *db,
		      struct stats *st)
{
	int flags = o->mode == MODE_TRUNC ? MSG_TRUNC : 0;
	size_t buf_len = o->chunk;
	struct progress pg;
	uint8_t *buf;
	int err = 0;

	buf = malloc(buf_len);
	if (!buf)
		return fail("out of memory");

	progress_init(&pg, o);
	for (;;) {
		ssize_t ret = recv(fd, buf, buf_len, flags);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EFAULT && o->expect_efault) {
				st->efault = true;
				st->efault_offset = st->bytes;
				msg("recv: EFAULT after %" PRIu64 " bytes, as expected: the flow landed on a dmabuf-bound queue",
				    st->bytes);
				break;
			}
			err = recv_error(o, db, st, errno);
			break;
		}
		if (!ret)
			break;

		if (o->mode == MODE_PLAIN) {
			validate(st, o, buf, st->bytes, ret,
				 "buffer offset", 0);
		} else if (o->mode == MODE_BOUNCE) {
			/* what applications do without devmem TCP */
			size_t done = 0;

			validate(st, o, buf, st->bytes, ret,
				 "buffer offset", 0);
			err = dmabuf_sync(db, DMA_BUF_SYNC_START |
					      DMA_BUF_SYNC_WRITE);
			if (err)
				break;
			while (done < (size_t)ret) {
				size_t n = ret - done;

				if (n > db->size - db->bounce_pos)
					n = db->size - db->bounce_pos;
				memcpy(db->map + db->bounce_pos, buf + done, n);
				st->copied_bytes += n;
				done += n;
				db->bounce_pos = (db->bounce_pos + n) %
						 db->size;
			}
			err = dmabuf_sync(db, DMA_BUF_SYNC_END |
					      DMA_BUF_SYNC_WRITE);
			if (err)
				break;
		}
		st->bytes += ret;
		st->plain_bytes += ret;
		/* recv() copied them into buf, unless MSG_TRUNC dropped them */
		if (o->mode != MODE_TRUNC)
			st->copied_bytes += ret;
		progress_tick(&pg, "received", st->bytes, o->size);
	}
	progress_done(&pg);
	if (!err && o->expect_efault && !st->efault)
		err = fail("expected EFAULT (flow on a dmabuf-bound queue), but %" PRIu64 " bytes arrived as ordinary data",
			   st->bytes);
	free(buf);
	return err;
}

/* --- summaries ----------------------------------------------------------- */

static void json_add_u64(struct json_object *j, const char *key, uint64_t val)
{
	json_object_object_add(j, key, json_object_new_int64(val));
}

static void json_add_str(struct json_object *j, const char *key,
			 const char *val)
{
	json_object_object_add(j, key, json_object_new_string(val));
}

static void json_add_bool(struct json_object *j, const char *key, bool val)
{
	json_object_object_add(j, key, json_object_new_boolean(val));
}

/* One line on stdout; the error key only when the run failed. */
static void json_print(struct json_object *j, bool failed)
{
	int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

	if (failed)
		json_object_object_add(j, "error",
				       json_object_new_string(run_error));
	printf("%s\n", json_object_to_json_string_ext(j, flags));
	json_object_put(j);
}

static void print_server_summary(const struct opts *o, const struct stats *st,
				 bool failed)
{
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "mode",
				       json_object_new_string(mode_names[o->mode]));
		json_add_u64(j, "bytes", st->bytes);
		json_add_u64(j, "dmabuf-bytes", st->dmabuf_bytes);
		json_add_u64(j, "linear-bytes", st->linear_bytes);
		json_add_u64(j, "plain-bytes", st->plain_bytes);
		json_add_u64(j, "dmabuf-frags", st->dmabuf_frags);
		json_add_u64(j, "linear-frags", st->linear_frags);
		json_add_u64(j, "tokens-returned", st->tokens_returned);
		json_add_u64(j, "tokens-held", st->tokens_held);
		if (st->have_dmabuf_id)
			json_add_u64(j, "dmabuf-id", st->dmabuf_id);
		json_object_object_add(j, "family",
				       json_object_new_string(st->family));
		if (st->have_binding_id)
			json_add_u64(j, "binding-id", st->binding_id);
		if (strcmp(st->family, "none"))
			json_object_object_add(j, "lifetime",
				json_object_new_string(lifetime_names[o->lifetime]));
		json_object_object_add(j, "seconds",
				       json_object_new_double(st->seconds));
		json_object_object_add(j, "cpu-user-seconds",
				       json_object_new_double(st->cpu_user));
		json_object_object_add(j, "cpu-sys-seconds",
				       json_object_new_double(st->cpu_sys));
		json_add_u64(j, "bytes-copied", st->copied_bytes);
		json_add_bool(j, "validated", o->validate && o->mode != MODE_TRUNC);
		json_add_u64(j, "errors", st->errors);
		if (o->expect_efault) {
			json_add_bool(j, "efault", st->efault);
			if (st->efault)
				json_add_u64(j, "efault-offset", st->efault_offset);
		}
		json_print(j, failed);
		return;
	}

	if (failed && !st->bytes)
		return;
	printf("received %" PRIu64 " bytes", st->bytes);
	if (o->mode == MODE_DEVMEM) {
		printf(": %" PRIu64 " via dmabuf (%" PRIu64 " frags), %" PRIu64 " via linear",
		       st->dmabuf_bytes, st->dmabuf_frags, st->linear_bytes);
		if (st->plain_bytes)
			printf(", %" PRIu64 " as ordinary data (not on a bound queue)",
			       st->plain_bytes);
	} else {
		printf(" (%s)", mode_names[o->mode]);
	}
	if (o->mode == MODE_TRUNC || !o->validate)
		printf("; not validated");
	else if (st->errors)
		printf("; %" PRIu64 " bytes INVALID, first at offset %" PRIu64,
		       st->errors, st->first_bad);
	else
		printf("; all bytes valid");
	if (o->hoard)
		printf("; %" PRIu64 " tokens held", st->tokens_held);
	printf("; %.1fs; CPU %.2fs user, %.2fs sys; %" PRIu64 " bytes copied\n",
	       st->seconds, st->cpu_user, st->cpu_sys, st->copied_bytes);
}

/* --- server and client -------------------------------------------------- */

static int run_server(const struct opts *o)
{
	struct dmabuf db = { .fd = -1 };
	struct stats st = { 0 };
	struct nl_sock *nl = NULL;
	int lfd = -1, fd = -1, err = 0;
	double start, user0, sys0;

	st.family = "none";
	if (o->mode == MODE_DEVMEM && o->binding_set) {
		err = binding_attach(o, &db);
		if (err)
			goto out;
		/* every frag must come from this binding */
		st.dmabuf_id = st.binding_id = o->binding;
		st.have_dmabuf_id = st.have_binding_id = true;
	} else if (o->mode == MODE_DEVMEM || o->mode == MODE_BOUNCE) {
		err = dmabuf_setup(&db, o);
		if (err)
			goto out;
	}
	if (o->mode == MODE_DEVMEM && !o->no_bind && !o->binding_set) {
		st.family = o->netdev_bind ? "netdev" : "devmem";
		/*
		 * Held open until exit: with lifetime socket, closing it
		 * unbinds the dmabuf.
		 */
		nl = bind_dmabuf(o, db.fd, &st.dmabuf_id);
		if (!nl) {
			err = -1;
			goto out;
		}
		st.binding_id = st.dmabuf_id;
		st.have_dmabuf_id = st.have_binding_id = true;
		msg("bound dmabuf id %u (%" PRIu64 " bytes) to %s rx queues %s (%s family, lifetime %s)",
		    st.dmabuf_id, db.size, o->ifname, o->queues_arg,
		    st.family, lifetime_names[o->lifetime]);
		if (o->lifetime == DEVMEM_LIFETIME_PERSISTENT)
			msg("binding %u is persistent: it stays after devmem-nc exits; unbind it with the devmem family: tools/ynl devmem --do unbind --json '{\"id\": %u}'",
			    st.binding_id, st.binding_id);
	}

	lfd = listen_on(o);
	if (lfd < 0) {
		err = -1;
		goto out;
	}
	fd = accept_one(lfd, o->timeout);
	if (fd < 0) {
		err = -1;
		goto out;
	}
	cpu_times(&user0, &sys0);
	close(lfd);
	lfd = -1;

	start = now();
	if (o->mode == MODE_DEVMEM)
		err = recv_devmem(fd, o, &db, &st);
	else
		err = recv_plain(fd, o, &db, &st);
	st.seconds = now() - start;
	cpu_times(&st.cpu_user, &st.cpu_sys);
	st.cpu_user -= user0;
	st.cpu_sys -= sys0;

	if (!err && o->size_set && !st.efault && st.bytes != o->size)
		err = fail("received %" PRIu64 " bytes, expected %" PRIu64,
			   st.bytes, o->size);
	if (!err && o->mode == MODE_DEVMEM && st.plain_bytes)
		msg("warning: %" PRIu64 " bytes arrived as ordinary data: the flow was not steered to a bound queue",
		    st.plain_bytes);
out:
	print_server_summary(o, &st, err);
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	if (nl)
		nl_socket_free(nl);
	dmabuf_teardown(&db);
	return err || st.errors ? 1 : 0;
}

/* --- client ------------------------------------------------------------- */

struct tx_stats {
	uint64_t bytes;
	uint64_t calls;			/* send/sendmsg calls that sent bytes */
	uint64_t completions;		/* MSG_ZEROCOPY calls known complete */
	uint64_t completions_copied;	/* of those, ones the kernel copied */
	/*
	 * Bytes copied on the way out: by the kernel (send(), or a zerocopy
	 * call it reported as copied) plus this process's own memcpy out of
	 * the dmabuf (bounce).
	 */
	uint64_t copied_bytes;
	double seconds;
	/* CPU time of this process from connect() to the end of the transfer */
	double cpu_user;
	double cpu_sys;
	/* the family that made the tx binding: "devmem", "netdev" or "none" */
	const char *family;
	bool have_binding_id;
	uint32_t binding_id;
};

/*
 * What the client sends from.  Stream offset i lives at window offset
 * i % size: a lap of the window holds a new stretch of the stream, so its
 * bytes are written again (pattern.h: every lap differs) once the previous
 * lap's are no longer needed.
 */
struct tx_buf {
	struct dmabuf db;	/* devmem, bounce: the dmabuf is the window */
	uint8_t *win;		/* the window: db.map, or host memory (zerocopy) */
	uint64_t size;		/* its size: at most this much is in flight */
	uint64_t filled;	/* the pattern is in place up to this offset */
	uint8_t *chunk;		/* copy, bounce: what send() copies from */
};

/*
 * Write the pattern into the window for the stream up to @upto.  A dmabuf
 * window is bracketed by DMA_BUF_IOCTL_SYNC, unless @in_cpu_access: the
 * caller holds CPU access already.
 */
static int tx_fill(struct tx_buf *tb, uint64_t upto, bool in_cpu_access)
{
	bool dmabuf = tb->win == tb->db.map && !in_cpu_access;

	if (dmabuf && dmabuf_sync(&tb->db, DMA_BUF_SYNC_START |
					   DMA_BUF_SYNC_WRITE))
		return -1;
	while (tb->filled < upto) {
		uint64_t off = tb->filled % tb->size;
		uint64_t n = upto - tb->filled;

		if (n > tb->size - off)
			n = tb->size - off;
		devmem_pattern_fill(tb->win + off, tb->filled, n);
		tb->filled += n;
	}
	if (dmabuf && dmabuf_sync(&tb->db, DMA_BUF_SYNC_END |
					   DMA_BUF_SYNC_WRITE))
		return -1;
	return 0;
}

/* One MSG_ZEROCOPY sendmsg call not yet known complete. */
struct zc_call {
	uint64_t end;		/* stream offset after its last byte */
	uint32_t len;
	bool done;
};

/*
 * The calls in flight, oldest first.  The kernel numbers a socket's
 * zerocopy calls from 0, one number per call that sends anything (a call
 * that fails having sent nothing gives its number back), and reports
 * completions as inclusive ranges of numbers, not necessarily in order.
 */
struct zc_ring {
	struct zc_call *calls;
	size_t head, tail, cap;
	uint32_t head_id;	/* the kernel's number of calls[head] */
	uint64_t done_end;	/* every byte before this has completed */
};

static size_t zc_pending(const struct zc_ring *r)
{
	return r->tail - r->head;
}

static int zc_push(struct zc_ring *r, uint64_t end, uint32_t len)
{
	if (r->tail == r->cap) {
		if (r->head && r->head >= r->cap / 2) {
			memmove(r->calls, r->calls + r->head,
				zc_pending(r) * sizeof(*r->calls));
			r->tail -= r->head;
			r->head = 0;
		} else {
			size_t cap = r->cap ? r->cap * 2 : 1024;
			void *calls = realloc(r->calls, cap * sizeof(*r->calls));

			if (!calls)
				return fail("out of memory tracking %zu sendmsg calls",
					    zc_pending(r));
			r->calls = calls;
			r->cap = cap;
		}
	}
	r->calls[r->tail].end = end;
	r->calls[r->tail].len = len;
	r->calls[r->tail].done = false;
	r->tail++;
	return 0;
}

/* Calls @lo..@hi completed (@copied: the kernel copied their bytes). */
static int zc_complete(struct zc_ring *r, uint32_t lo, uint32_t hi,
		       bool copied, struct tx_stats *st)
{
	uint32_t first = lo - r->head_id, n = hi - lo;
	uint64_t i;

	if ((uint64_t)first + n >= zc_pending(r)) {
		if (!zc_pending(r))
			return fail("zerocopy completion for sendmsg calls %u-%u, but none is in flight",
				    lo, hi);
		return fail("zerocopy completion for sendmsg calls %u-%u, but only %u-%u are in flight",
			    lo, hi, r->head_id,
			    r->head_id + (uint32_t)zc_pending(r) - 1);
	}
	for (i = 0; i <= n; i++) {
		struct zc_call *c = &r->calls[r->head + first + i];

		if (c->done)
			return fail("zerocopy completion for sendmsg call %u twice",
				    lo + (uint32_t)i);
		c->done = true;
		st->completions++;
		if (copied) {
			st->completions_copied++;
			st->copied_bytes += c->len;
		}
	}
	while (r->head < r->tail && r->calls[r->head].done) {
		r->done_end = r->calls[r->head].end;
		r->head++;
		r->head_id++;
	}
	return 0;
}

/* Read every completion queued on the socket's error queue. */
static int zc_reap(int fd, struct zc_ring *r, struct tx_stats *st)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
					    sizeof(struct sockaddr_in6))];
			struct cmsghdr align;
		} ctrl;
		struct msghdr m = {
			.msg_control = ctrl.buf,
			.msg_controllen = sizeof(ctrl.buf),
		};
		struct sock_extended_err ee;
		struct cmsghdr *cm;
		bool found = false;

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			return fail("recvmsg(MSG_ERRQUEUE): %s (%s)",
				    strerror(errno), errno_name(errno));
		}
		if (m.msg_flags & MSG_CTRUNC)
			return fail("recvmsg(MSG_ERRQUEUE): control data truncated (MSG_CTRUNC)");
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			if (!(cm->cmsg_level == SOL_IP &&
			      cm->cmsg_type == IP_RECVERR) &&
			    !(cm->cmsg_level == SOL_IPV6 &&
			      cm->cmsg_type == IPV6_RECVERR))
				continue;
			if (cm->cmsg_len < CMSG_LEN(sizeof(ee)))
				return fail("recvmsg(MSG_ERRQUEUE): short extended error (%zu bytes)",
					    (size_t)cm->cmsg_len);
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			found = true;
			if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				return fail("error queue: %s (%s), origin %u: not a zerocopy completion",
					    strerror(ee.ee_errno),
					    errno_name(ee.ee_errno),
					    ee.ee_origin);
			if (zc_complete(r, ee.ee_info, ee.ee_data,
					ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED,
					st))
				return -1;
		}
		if (!found)
			return fail("recvmsg(MSG_ERRQUEUE): a message with no extended error");
	}
}

/*
 * Wait until the calls that sent the stream up to @need have completed,
 * reading the error queue as completions arrive (poll reports POLLERR
 * while it holds any).
 */
static int zc_wait(int fd, const struct opts *o, struct zc_ring *r,
		   struct tx_stats *st, uint64_t need)
{
	while (r->done_end < need) {
		struct pollfd pfd = { .fd = fd };
		uint64_t before = st->completions;
		socklen_t len = sizeof(int);
		int ret, err = 0;

		ret = poll(&pfd, 1, o->timeout ? o->timeout * 1000 : -1);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return fail("poll: %s", strerror(errno));
		}
		if (!ret)
			return fail("%zu sendmsg calls (%" PRIu64 " bytes) not completed after %d s",
				    zc_pending(r), st->bytes - r->done_end,
				    o->timeout);
		if (zc_reap(fd, r, st))
			return -1;
		if (st->completions != before)
			continue;
		/* woken with no completion queued: the connection failed */
		if (!getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) && err)
			return fail("connection failed: %s (%s) with %zu sendmsg calls not completed",
				    strerror(err), errno_name(err),
				    zc_pending(r));
		if (pfd.revents & (POLLHUP | POLLNVAL))
			return fail("connection closed with %zu sendmsg calls not completed",
				    zc_pending(r));
	}
	return 0;
}

/* After "sendmsg: <strerror> (<ENAME>)": what the kernel's refusal means. */
static void sendmsg_hint(const struct opts *o, uint32_t binding, int err)
{
	if (o->tx != TX_DEVMEM)
		return;
	switch (err) {
	case EINVAL:
		msg("devmem sendmsg needs MSG_ZEROCOPY on a socket with SO_ZEROCOPY, and one SCM_DEVMEM_DMABUF cmsg");
		break;
	case ENOENT:
		msg("binding %u: no such tx binding in this network namespace, or it is unbound",
		    binding);
		break;
	case EOPNOTSUPP:
		msg("binding %u is not a tx binding (or the kernel cannot send from device memory)",
		    binding);
		break;
	case ENODEV:
		msg("the route to %s leaves through another device than binding %u's%s",
		    o->connect_addr, binding,
		    o->ifname ? "" : " (-i IFNAME binds the socket to a device)");
		break;
	case EFAULT:
		msg("an iov lies outside binding %u's dmabuf", binding);
		break;
	}
}

/*
 * devmem, zerocopy: sendmsg(MSG_ZEROCOPY) from the window, at most its size
 * in flight.  devmem iovs are offsets into the dmabuf, named by the
 * binding id in an SCM_DEVMEM_DMABUF cmsg.
 */
static int send_zerocopy(int fd, const struct opts *o, struct tx_buf *tb,
			 struct tx_stats *st)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctrl;
	bool devmem = o->tx == TX_DEVMEM;
	struct zc_ring r = { 0 };
	struct progress pg;
	int err = 0;

	memset(&ctrl, 0, sizeof(ctrl));
	if (devmem) {
		struct msghdr m = {
			.msg_control = ctrl.buf,
			.msg_controllen = sizeof(ctrl.buf),
		};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_DEVMEM_DMABUF;
		cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
		memcpy(CMSG_DATA(cm), &st->binding_id, sizeof(uint32_t));
	}

	progress_init(&pg, o);
	while (st->bytes < o->size) {
		uint64_t s = st->bytes, len = o->size - s, off;
		struct iovec iov[2];
		struct msghdr m = { .msg_iov = iov };
		ssize_t ret;

		if (len > o->chunk)
			len = o->chunk;
		if (len > tb->size)
			len = tb->size;
		/* this part of the window last held [s - size, s + len - size) */
		if (s + len > tb->size) {
			err = zc_wait(fd, o, &r, st, s + len - tb->size);
			if (err)
				break;
		}
		if (tb->filled < s + len) {
			uint64_t upto = r.done_end + tb->size;

			err = tx_fill(tb, upto < o->size ? upto : o->size,
				      false);
			if (err)
				break;
		}

		off = s % tb->size;
		iov[0].iov_len = len < tb->size - off ? len : tb->size - off;
		iov[1].iov_len = len - iov[0].iov_len;
		if (devmem) {
			/* offsets into the dmabuf, not addresses */
			iov[0].iov_base = (void *)(uintptr_t)off;
			iov[1].iov_base = (void *)(uintptr_t)0;
			m.msg_control = ctrl.buf;
			m.msg_controllen = sizeof(ctrl.buf);
		} else {
			iov[0].iov_base = tb->win + off;
			iov[1].iov_base = tb->win;
		}
		m.msg_iovlen = iov[1].iov_len ? 2 : 1;

		ret = sendmsg(fd, &m, MSG_ZEROCOPY | MSG_NOSIGNAL);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS && zc_pending(&r)) {
				/* no optmem for another notification yet */
				err = zc_wait(fd, o, &r, st,
					      r.calls[r.head].end);
				if (err)
					break;
				continue;
			}
			if (errno == EAGAIN) {
				err = fail("sendmsg: no progress for %d s after %" PRIu64 " bytes (timeout)",
					   o->timeout, st->bytes);
				break;
			}
			err = fail("sendmsg: %s (%s)", strerror(errno),
				   errno_name(errno));
			sendmsg_hint(o, st->binding_id, errno);
			break;
		}
		err = zc_push(&r, s + ret, ret);
		if (err)
			break;
		st->bytes += ret;
		st->calls++;
		/* keep notifications from piling up on the error queue */
		if (!(st->calls % 64)) {
			err = zc_reap(fd, &r, st);
			if (err)
				break;
		}
		progress_tick(&pg, "sent", st->bytes, o->size);
	}
	progress_done(&pg);
	/* every call must complete before the window (and binding) go */
	if (!err)
		err = zc_wait(fd, o, &r, st, st->bytes);
	free(r.calls);
	return err;
}

static int send_all(int fd, const struct opts *o, const uint8_t *buf,
		    size_t len, struct tx_stats *st)
{
	size_t done = 0;

	while (done < len) {
		ssize_t ret = send(fd, buf + done, len - done, MSG_NOSIGNAL);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return fail("send: no progress for %d s after %" PRIu64 " bytes (timeout)",
					    o->timeout, st->bytes);
			return fail("send: %s after %" PRIu64 " bytes",
				    strerror(errno), st->bytes);
		}
		done += ret;
		st->bytes += ret;
		st->calls++;
		/* send() copied them into the socket's buffers */
		st->copied_bytes += ret;
	}
	return 0;
}

/*
 * copy: send() the pattern from a host buffer.  bounce: what applications
 * do without devmem TX, memcpy each chunk out of the dmabuf first.  Only
 * the CPU touches a bounce dmabuf, so one CPU access (DMA_BUF_IOCTL_SYNC
 * start to end) covers a whole lap of it: writing it, then copying out of
 * it chunk by chunk.  (udmabuf syncs the whole buffer on every call.)
 */
static int send_copy(int fd, const struct opts *o, struct tx_buf *tb,
		     struct tx_stats *st)
{
	const uint64_t rw = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
	bool cpu_access = false;
	struct progress pg;
	int err = 0;

	progress_init(&pg, o);
	while (st->bytes < o->size) {
		uint64_t s = st->bytes, len = o->size - s;

		if (len > o->chunk)
			len = o->chunk;
		if (o->tx == TX_BOUNCE) {
			uint64_t off = s % tb->size, n;

			if (len > tb->size)
				len = tb->size;
			if (tb->filled < s + len) {
				uint64_t upto = s + tb->size;

				if (cpu_access) {
					cpu_access = false;
					err = dmabuf_sync(&tb->db,
							  DMA_BUF_SYNC_END | rw);
					if (err)
						break;
				}
				err = dmabuf_sync(&tb->db,
						  DMA_BUF_SYNC_START | rw);
				if (err)
					break;
				cpu_access = true;
				err = tx_fill(tb, upto < o->size ? upto :
								  o->size,
					      true);
				if (err)
					break;
			}
			n = len < tb->size - off ? len : tb->size - off;
			memcpy(tb->chunk, tb->win + off, n);
			memcpy(tb->chunk + n, tb->win, len - n);
			st->copied_bytes += len;
		} else {
			devmem_pattern_fill(tb->chunk, s, len);
		}
		err = send_all(fd, o, tb->chunk, len, st);
		if (err)
			break;
		progress_tick(&pg, "sent", st->bytes, o->size);
	}
	progress_done(&pg);
	if (cpu_access && dmabuf_sync(&tb->db, DMA_BUF_SYNC_END | rw))
		err = -1;
	return err;
}

/*
 * The window and, for devmem, the tx binding.  A binding of lifetime socket
 * lives as long as *nl, which the caller closes after the TCP socket.
 */
static int tx_setup(const struct opts *o, struct tx_buf *tb,
		    struct tx_stats *st, struct nl_sock **nl)
{
	uint64_t chunk = o->chunk;

	if (o->tx == TX_COPY) {
		tb->chunk = malloc(o->chunk);
		return tb->chunk ? 0 : fail("out of memory");
	}
	if (o->tx == TX_ZEROCOPY) {
		tb->size = o->dmabuf_size;
		tb->win = malloc(tb->size);
		if (!tb->win)
			return fail("out of memory for a %" PRIu64 "-byte buffer",
				    tb->size);
		return 0;
	}

	if (o->tx == TX_DEVMEM && o->binding_set && o->dmabuf_fd < 0) {
		if (binding_attach(o, &tb->db))
			return -1;
	} else if (dmabuf_setup(&tb->db, o)) {
		return -1;
	}
	tb->win = tb->db.map;
	tb->size = tb->db.size;

	if (o->tx == TX_BOUNCE) {
		if (chunk > tb->size)
			chunk = tb->size;
		tb->chunk = malloc(chunk);
		return tb->chunk ? 0 : fail("out of memory");
	}

	if (o->binding_set) {
		st->binding_id = o->binding;
		st->have_binding_id = true;
		return 0;
	}
	st->family = o->netdev_bind ? "netdev" : "devmem";
	*nl = bind_dmabuf(o, tb->db.fd, &st->binding_id);
	if (!*nl)
		return -1;
	st->have_binding_id = true;
	msg("bound dmabuf id %u (%" PRIu64 " bytes) to %s for tx (%s family, lifetime %s)",
	    st->binding_id, tb->size, o->ifname, st->family,
	    lifetime_names[o->lifetime]);
	if (o->lifetime == DEVMEM_LIFETIME_PERSISTENT)
		msg("binding %u is persistent: it stays after devmem-nc exits; unbind it with the devmem family: tools/ynl devmem --do unbind --json '{\"id\": %u}'",
		    st->binding_id, st->binding_id);
	return 0;
}

static void tx_teardown(struct tx_buf *tb)
{
	if (tb->win != tb->db.map)
		free(tb->win);
	free(tb->chunk);
	dmabuf_teardown(&tb->db);
}

/* Options that take effect only before connect(): the route they pick. */
static int client_sockopts(int fd, const struct opts *o)
{
	int one = 1;

	if ((o->tx == TX_DEVMEM || o->tx == TX_ZEROCOPY) &&
	    setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0)
		return fail("SO_ZEROCOPY: %s (%s)", strerror(errno),
			    errno_name(errno));
	/* devmem: the route must leave through the binding's device */
	if (o->tx == TX_DEVMEM && o->ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->ifname,
		       strlen(o->ifname)) < 0)
		return fail("SO_BINDTODEVICE %s: %s (%s)", o->ifname,
			    strerror(errno), errno_name(errno));
	return 0;
}

static int connect_to(const struct opts *o)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *ai, *res;
	int fd = -1, err;

	err = getaddrinfo(o->connect_addr, o->port, &hints, &res);
	if (err)
		return fail("-c %s: %s", o->connect_addr, gai_strerror(err));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		set_timeouts(fd, o->timeout);
		if (client_sockopts(fd, o)) {
			close(fd);
			freeaddrinfo(res);
			return -1;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return fail("connect to %s port %s: %s", o->connect_addr,
			    o->port, err == EINPROGRESS || err == EAGAIN ?
			    "timed out" : strerror(err));
	return fd;
}

/* End the stream, then wait for the server to close: it has checked it all. */
static int client_finish(int fd, const struct opts *o)
{
	char drain[4096];
	ssize_t ret;

	if (shutdown(fd, SHUT_WR) < 0)
		return fail("shutdown: %s", strerror(errno));
	for (;;) {
		ret = recv(fd, drain, sizeof(drain), 0);
		if (ret > 0 || (ret < 0 && errno == EINTR))
			continue;
		if (!ret)
			return 0;
		if (errno == EAGAIN)
			return fail("server did not close the connection within %d s",
				    o->timeout);
		return fail("waiting for the server to close: %s",
			    strerror(errno));
	}
}

static void print_client_summary(const struct opts *o,
				 const struct tx_stats *st, uint64_t window,
				 bool failed)
{
	bool zc = o->tx == TX_DEVMEM || o->tx == TX_ZEROCOPY;

	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_add_str(j, "tx", tx_names[o->tx]);
		json_add_u64(j, "bytes", st->bytes);
		if (o->tx == TX_DEVMEM) {
			json_add_str(j, "family", st->family);
			if (st->have_binding_id)
				json_add_u64(j, "binding-id", st->binding_id);
			if (strcmp(st->family, "none"))
				json_add_str(j, "lifetime",
					     lifetime_names[o->lifetime]);
		}
		if (o->tx == TX_DEVMEM || o->tx == TX_BOUNCE)
			json_add_u64(j, "dmabuf-size", window);
		else if (o->tx == TX_ZEROCOPY)
			json_add_u64(j, "buffer-size", window);
		json_add_u64(j, "sendmsg-calls", st->calls);
		if (zc) {
			json_add_u64(j, "completions", st->completions);
			json_add_u64(j, "completions-copied",
				     st->completions_copied);
		}
		json_object_object_add(j, "seconds",
				       json_object_new_double(st->seconds));
		json_object_object_add(j, "cpu-user-seconds",
				       json_object_new_double(st->cpu_user));
		json_object_object_add(j, "cpu-sys-seconds",
				       json_object_new_double(st->cpu_sys));
		json_add_u64(j, "bytes-copied", st->copied_bytes);
		json_print(j, failed);
		return;
	}

	if (failed)
		return;
	printf("sent %" PRIu64 " bytes (%s", st->bytes, tx_names[o->tx]);
	if (st->have_binding_id)
		printf(", binding %u", st->binding_id);
	printf(") in %" PRIu64 " %s calls", st->calls,
	       zc ? "sendmsg" : "send");
	if (zc)
		printf(", all completed, %" PRIu64 " of them copied by the kernel",
		       st->completions_copied);
	printf("; %.1fs; CPU %.2fs user, %.2fs sys; %" PRIu64 " bytes copied\n",
	       st->seconds, st->cpu_user, st->cpu_sys, st->copied_bytes);
}

static int run_client(const struct opts *o)
{
	struct tx_buf tb = { .db = { .fd = -1 } };
	struct tx_stats st = { .family = "none" };
	struct nl_sock *nl = NULL;
	double start, user0, sys0;
	int fd = -1, err;

	err = tx_setup(o, &tb, &st, &nl);
	if (err)
		goto out;
	fd = connect_to(o);
	if (fd < 0) {
		err = -1;
		goto out;
	}

	cpu_times(&user0, &sys0);
	start = now();
	if (o->tx == TX_DEVMEM || o->tx == TX_ZEROCOPY)
		err = send_zerocopy(fd, o, &tb, &st);
	else
		err = send_copy(fd, o, &tb, &st);
	if (!err)
		err = client_finish(fd, o);
	st.seconds = now() - start;
	cpu_times(&st.cpu_user, &st.cpu_sys);
	st.cpu_user -= user0;
	st.cpu_sys -= sys0;
out:
	print_client_summary(o, &st, tb.size, err);
	/* the socket first: with lifetime socket, closing nl unbinds */
	if (fd >= 0)
		close(fd);
	if (nl)
		nl_socket_free(nl);
	tx_teardown(&tb);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;

	parse_opts(&o, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	return o.listen ? run_server(&o) : run_client(&o);
}
