// SPDX-License-Identifier: GPL-2.0
/* devmem-nc options: the usage text and the getopt loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devmem-nc.h"

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
"  --raw-loop             devmem mode: receive with a minimal hand-written loop\n"
"                         instead of libdevmem (a benchmark baseline; needs\n"
"                         --no-validate, no --hoard); client: --tx devmem\n"
"                         sent by such a loop\n"
"\n"
"Client:\n"
"  -c, --connect ADDR     server address, IPv4 or IPv6\n"
"  -p, --port PORT        server port\n"
"  -s, --size SIZE        bytes to send\n"
"  --chunk N              bytes per send call (default 64K)\n"
"  --urgent OFFSET        --tx copy: send the byte at stream offset OFFSET\n"
"                         alone with MSG_OOB, once all before it is\n"
"                         acknowledged (repeatable, ascending, up to 8)\n"
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

/* --- numbers, sizes, queue lists: libdevmem's strict grammar ----------- */

static uint64_t parse_size(const char *opt, const char *arg)
{
	char why[96];
	uint64_t v;
	int ret = devmem_parse_size(arg, &v, why, sizeof(why));

	if (ret == -ERANGE)
		usage_error("%s: size '%s' too large", opt, arg);
	if (ret)
		usage_error("%s: invalid size '%s'", opt, arg);
	return v;
}

static unsigned long parse_uint(const char *opt, const char *arg,
				unsigned long max)
{
	uint64_t v;

	if (devmem_parse_u64(arg, &v) || v > max)
		usage_error("%s: invalid number '%s' (0..%lu)", opt, arg, max);
	return v;
}

/* "2", "2-3", "1,3", "0-1,4": sorted, each queue once */
static void parse_queues(struct opts *o, const char *arg)
{
	char why[96];
	int ret;

	free(o->queues);
	ret = devmem_parse_queues(arg, MAX_QUEUE_ID, &o->queues,
				  &o->nr_queues, why, sizeof(why));
	if (ret == -ENOMEM) {
		msg("out of memory");
		exit(1);
	}
	if (ret)
		usage_error("-q: invalid queues '%s': %s", arg, why);
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
	OPT_RAW_LOOP,
	OPT_URGENT,
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
	{ "raw-loop",		no_argument,		NULL, OPT_RAW_LOOP },
	{ "urgent",		required_argument,	NULL, OPT_URGENT },
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

void parse_opts(struct opts *o, int argc, char **argv)
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
			for (i = 0; mode_names[i]; i++)
				if (!strcmp(optarg, mode_names[i]))
					break;
			if (!mode_names[i])
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
		case OPT_RAW_LOOP:
			o->raw_loop = true;
			break;
		case OPT_URGENT:
			if (o->nr_urgent == DEVMEM_NC_MAX_URGENT)
				usage_error("--urgent: at most %d urgent bytes",
					    DEVMEM_NC_MAX_URGENT);
			o->urgent[o->nr_urgent] = parse_size("--urgent", optarg);
			if (o->nr_urgent &&
			    o->urgent[o->nr_urgent] <= o->urgent[o->nr_urgent - 1])
				usage_error("--urgent: offsets must ascend ('%s')",
					    optarg);
			o->nr_urgent++;
			o->client_opt = o->client_opt ?: "--urgent";
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
			for (i = 0; tx_names[i]; i++)
				if (!strcmp(optarg, tx_names[i]))
					break;
			if (!tx_names[i])
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
	if (!chunk_set)
		o->chunk = MiB;
	if (!o->chunk || o->chunk > INT_MAX)
		usage_error("--chunk: must be 1..%d", INT_MAX);
	check_server_opts(o);
}
