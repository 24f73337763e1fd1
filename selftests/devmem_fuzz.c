// SPDX-License-Identifier: GPL-2.0
/*
 * devmem_fuzz - a structure-aware fuzzer of the devmem generic netlink
 * family and of the netdev family's bind-rx and bind-tx, in raw netlink
 * (no libnl: it must be able to send any bytes).
 *
 * Each request starts from a model of its op's attributes (taken from
 * Documentation/netlink/specs/devmem.yaml and the base tree's netdev.yaml)
 * with plausible values: real ifindexes, queue ids, binding ids and
 * dmabuf fds of udmabufs it makes itself, next to non-dmabuf fds, -1 and
 * huge numbers. Then none, one or several mutations: a value, an attribute's
 * size or type, unknown and duplicated attributes, attributes dropped,
 * nests with garbage, deep nesting, huge queue lists, nla_len and nlmsg_len
 * that lie, truncated attributes and headers, unaligned attributes, random
 * bytes, another op's cmd, random version, flags and message type. Several
 * messages go in one sendmsg at times; dumps are cut off by closing the
 * socket; sockets come and go with random netlink socket options (extended
 * ack, capped acks, strict checking, a tiny receive buffer, the mgmt
 * multicast group).
 *
 * Replies are read after every send and counted per op and errno; a
 * refusal is never fatal. The fuzzer never unbinds a binding that existed
 * when it started (the kept binding of the test): every devmem unbind
 * request is scrubbed of their ids just before it is sent, after all
 * mutations, walking the bytes as the kernel's netlink_rcv_skb() does.
 * Bindings it happens to make are unbound (or their socket closed) as it
 * goes and at the end; it exits 1 unless the binding list is then what it
 * was at the start, and if a dmabuf fd no reply announced turns up in the
 * process. Requests that hit a known kernel bug (enum known) are rewritten
 * unless --known asks for them. Documentation/devmem-fuzz.rst has more.
 *
 * The PRNG is seeded from --seed (printed); the same seed on the same
 * setup sends the same requests.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <linux/devmem.h>
#include <linux/genetlink.h>
#include <linux/netdev.h>
#include <linux/netlink.h>
#include <linux/udmabuf.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK	12
#endif
/* added by this series: 15 in the spec, whatever the headers at hand say */
#define FUZZ_NETDEV_CMD_BIND_TX	15
#ifndef NETDEV_CMD_BIND_RX
#define NETDEV_CMD_BIND_RX	13
#endif

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define NLA_HDR			4
#define NLA_TYPE_MASK_	0x3fff

/* one netlink message at most (nla_len is 16 bits: top level nests fit) */
#define MSG_MAX			(60 * 1024)
/* one sendmsg at most: below the default socket send buffer */
#define BATCH_MAX		(150 * 1024)
#define MAX_ATTRS		8192
#define ARENA_SIZE		(64 * 1024)
#define RX_BUF			(64 * 1024)
/* bindings the fuzzer made, kept at most before it unbinds the oldest */
#define MAX_MADE		4
/* socket-lifetime bindings on one fuzz socket before it is reopened */
#define MAX_SOCK_BINDS		4
#define MAX_FDS			4096
#define MAX_PROTECTED		256
/* a request the kernel does not answer in this long is a finding */
#define STUCK_S			120
#define MAX_ERRNO		134

static const char *prog = "devmem_fuzz";

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* --- the PRNG ------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: every seed gives a full-period, well-mixed stream */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(((rnd() >> 32) * n) >> 32) : 0;
}

/* true one time in @n */
static bool one_in(uint32_t n)
{
	return below(n) == 0;
}

/* true @pct percent of the time */
static bool pct(uint32_t p)
{
	return below(100) < p;
}

static uint32_t range(uint32_t lo, uint32_t hi)
{
	return lo + below(hi - lo + 1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- mutation classes ------------------------------------------------------ */

enum mclass {
	MC_VALID,	/* no mutation at all: a well-formed request */
	MC_VALUE,	/* one field's value */
	MC_SIZE,	/* an attribute's payload size */
	MC_TYPE,	/* an attribute's type: another of its set, 0, past max */
	MC_UNKNOWN,	/* an attribute of a type nobody defines */
	MC_DUP,		/* an attribute repeated */
	MC_DROP,	/* an attribute left out */
	MC_FLAGS,	/* NLA_F_NESTED / NLA_F_NET_BYTEORDER on an attribute */
	MC_NEST,	/* a scalar as a nest, a nest with garbage or the wrong set */
	MC_DEEP,	/* deep nesting */
	MC_HUGE,	/* huge queue lists, many attributes */
	MC_GARBAGE,	/* random bytes for attributes */
	MC_CMD,		/* another op's cmd or a random one */
	MC_VERSION,	/* genl version and reserved field */
	MC_NLFLAGS,	/* nlmsg_flags: dump, ack, echo, no request, random */
	MC_NLTYPE,	/* nlmsg_type: another family, a control type, unused */
	MC_SEQPID,	/* nlmsg_seq and nlmsg_pid */
	MC_NLALEN,	/* an nla_len that lies: 0, short, long, past the end */
	MC_NLMSGLEN,	/* an nlmsg_len that lies */
	MC_TRUNC,	/* the message cut short */
	MC_GENLHDR,	/* the genl header cut short */
	MC_UNALIGNED,	/* attributes without padding */
	MC_BYTES,	/* random bytes flipped */
	MC_BATCH,	/* several messages in one sendmsg */
	MC_IOV,		/* a message split across iovecs */
	MC_DUMPCLOSE,	/* a dump cut off by closing the socket */
	MC_SOCKOPT,	/* sockets with a tiny receive buffer, mcast, acks */
	MC_NR,
};

static const char *const mc_names[MC_NR] = {
	[MC_VALID] = "valid", [MC_VALUE] = "value", [MC_SIZE] = "size",
	[MC_TYPE] = "type", [MC_UNKNOWN] = "unknown", [MC_DUP] = "dup",
	[MC_DROP] = "drop", [MC_FLAGS] = "flags", [MC_NEST] = "nest",
	[MC_DEEP] = "deep", [MC_HUGE] = "huge", [MC_GARBAGE] = "garbage",
	[MC_CMD] = "cmd", [MC_VERSION] = "version", [MC_NLFLAGS] = "nlflags",
	[MC_NLTYPE] = "nltype", [MC_SEQPID] = "seqpid", [MC_NLALEN] = "nlalen",
	[MC_NLMSGLEN] = "nlmsglen", [MC_TRUNC] = "trunc",
	[MC_GENLHDR] = "genlhdr", [MC_UNALIGNED] = "unaligned",
	[MC_BYTES] = "bytes", [MC_BATCH] = "batch", [MC_IOV] = "iov",
	[MC_DUMPCLOSE] = "dumpclose", [MC_SOCKOPT] = "sockopt",
};

/* relative weight of each per-message mutation */
static unsigned int mc_weight[MC_NR] = {
	[MC_VALUE] = 20, [MC_SIZE] = 10, [MC_TYPE] = 8, [MC_UNKNOWN] = 6,
	[MC_DUP] = 6, [MC_DROP] = 8, [MC_FLAGS] = 4, [MC_NEST] = 8,
	[MC_DEEP] = 3, [MC_HUGE] = 3, [MC_GARBAGE] = 3, [MC_CMD] = 8,
	[MC_VERSION] = 3, [MC_NLFLAGS] = 8, [MC_NLTYPE] = 2, [MC_SEQPID] = 2,
	[MC_NLALEN] = 8, [MC_NLMSGLEN] = 5, [MC_TRUNC] = 5, [MC_GENLHDR] = 2,
	[MC_UNALIGNED] = 3, [MC_BYTES] = 4,
};
static bool mc_off[MC_NR];

/*
 * Kernel bugs the fuzzer found, avoided unless --known NAME: the guard
 * rewrites the requests that hit them (Documentation/devmem-fuzz.rst).
 * Both are fixed in this project's series; devmem_fuzz.sh turns them on,
 * the guard is for kernels without the fixes.
 */
enum known {
	/* netdev bind-rx of a device with no parent device (lo): 6.12's
	 * net_devmem_bind_dmabuf() attaches the dmabuf to a NULL device,
	 * WARNING in dma_buf_dynamic_attach() (mainline too, until 6.17)
	 */
	KB_PARENTLESS_BIND,
	/* devmem dmabuf-get installs the fd before the reply is sure to go
	 * out: when the reply is dropped (full receive buffer) the caller
	 * holds a dmabuf fd nothing told it about. Avoided by asking only
	 * in batches whose replies fit; any stray fd fails the run.
	 */
	KB_DMABUF_GET_LOST_REPLY,
	KB_NR,
};
static const char *const kb_names[KB_NR] = {
	[KB_PARENTLESS_BIND] = "parentless-bind",
	[KB_DMABUF_GET_LOST_REPLY] = "dmabuf-get-lost-reply",
};
static bool kb_on[KB_NR];
static unsigned long kb_avoided[KB_NR];
static unsigned long mc_used[MC_NR];

/* --- the model of the ops, from the specs ---------------------------------- */

enum fam { F_DEVMEM, F_NETDEV, F_NLCTRL, F_NR };
static const char *const fam_names[F_NR] = { "devmem", "netdev", "nlctrl" };

enum kind { T_U32, T_UINT, T_U16, T_STR, T_NEST };

/* how to make up a plausible value */
enum vk {
	VK_U32, VK_U64, VK_ID, VK_IFINDEX, VK_FD, VK_QUEUE, VK_ENUM2,
	VK_QTYPE, VK_STR, VK_FAMID, VK_CMD, VK_PPID, VK_MASK1,
};

struct aset;

struct amodel {
	uint16_t type;
	uint8_t kind;
	uint8_t vk;
	const struct aset *nest;	/* T_NEST: the nested set */
};

struct aset {
	const char *name;
	uint16_t max;
	const struct amodel *attrs;
	unsigned int n;
};

/* an attribute in a request: its model and how often it is sent */
struct req {
	uint16_t type;
	bool multi;
};

struct opmodel {
	const char *name;
	enum fam fam;
	uint8_t cmd;
	const struct aset *set;
	const struct req *doreq, *dumpreq;
	unsigned int n_do, n_dump;
	bool has_do, has_dump;
	unsigned int weight;
	bool present;			/* the kernel has it (CTRL_ATTR_OPS) */
};

#define SET(s, nm, mx) \
	static const struct aset s = { nm, mx, s##_attrs, ARRAY_SIZE(s##_attrs) }

/* devmem.yaml */
static const struct amodel dm_binding_attrs[] = {
	{ .type = DEVMEM_A_BINDING_ID, .kind = T_U32, .vk = VK_ID },
	{ .type = DEVMEM_A_BINDING_IFINDEX, .kind = T_U32, .vk = VK_IFINDEX },
	{ .type = DEVMEM_A_BINDING_FD, .kind = T_U32, .vk = VK_FD },
	{ .type = DEVMEM_A_BINDING_QUEUES, .kind = T_U32, .vk = VK_QUEUE },
	{ .type = DEVMEM_A_BINDING_DIRECTION, .kind = T_U32, .vk = VK_ENUM2 },
	{ .type = DEVMEM_A_BINDING_LIFETIME, .kind = T_U32, .vk = VK_ENUM2 },
	{ .type = DEVMEM_A_BINDING_DMABUF_SIZE, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_BINDING_OWNER_PID, .kind = T_U32, .vk = VK_U32 },
	{ .type = DEVMEM_A_BINDING_OWNER_COMM, .kind = T_STR, .vk = VK_STR },
	{ .type = DEVMEM_A_BINDING_STATE, .kind = T_U32, .vk = VK_ENUM2 },
	{ .type = DEVMEM_A_BINDING_CREATE_TIME, .kind = T_UINT, .vk = VK_U64 },
};
SET(dm_binding, "binding", DEVMEM_A_BINDING_MAX);

static const struct amodel dm_stats_attrs[] = {
	{ .type = DEVMEM_A_STATS_ID, .kind = T_U32, .vk = VK_ID },
	{ .type = DEVMEM_A_STATS_IFINDEX, .kind = T_U32, .vk = VK_IFINDEX },
	{ .type = DEVMEM_A_STATS_NIOVS_TOTAL, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_NIOVS_FREE, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_NIOVS_USER, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_RX_BYTES, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_RX_FRAGS, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_RX_LINEAR_BYTES, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_TOKENS_OUT, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_TOKENS_RETURNED, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_TOKENS_RECLAIMED, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_ALLOC_FAIL, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_EFAULT, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_TX_BYTES, .kind = T_UINT, .vk = VK_U64 },
	{ .type = DEVMEM_A_STATS_TX_FRAGS, .kind = T_UINT, .vk = VK_U64 },
};
SET(dm_stats, "stats", DEVMEM_A_STATS_MAX);

/* netdev.yaml (6.12 + bind-tx) */
static const struct amodel nd_queue_id_attrs[] = {
	{ .type = NETDEV_A_QUEUE_ID, .kind = T_U32, .vk = VK_QUEUE },
	{ .type = NETDEV_A_QUEUE_TYPE, .kind = T_U32, .vk = VK_QTYPE },
};
SET(nd_queue_id, "queue-id", NETDEV_A_QUEUE_TYPE);

static const struct amodel nd_dmabuf_attrs[] = {
	{ .type = NETDEV_A_DMABUF_IFINDEX, .kind = T_U32, .vk = VK_IFINDEX },
	{ .type = NETDEV_A_DMABUF_QUEUES, .kind = T_NEST, .nest = &nd_queue_id },
	{ .type = NETDEV_A_DMABUF_FD, .kind = T_U32, .vk = VK_FD },
	{ .type = NETDEV_A_DMABUF_ID, .kind = T_U32, .vk = VK_ID },
};
SET(nd_dmabuf, "dmabuf", NETDEV_A_DMABUF_ID);

static const struct amodel nd_dev_attrs[] = {
	{ .type = NETDEV_A_DEV_IFINDEX, .kind = T_U32, .vk = VK_IFINDEX },
	{ .type = NETDEV_A_DEV_XDP_FEATURES, .kind = T_UINT, .vk = VK_U64 },
};
SET(nd_dev, "dev", NETDEV_A_DEV_MAX);

static const struct amodel nd_page_pool_attrs[] = {
	{ .type = NETDEV_A_PAGE_POOL_ID, .kind = T_UINT, .vk = VK_PPID },
	{ .type = NETDEV_A_PAGE_POOL_IFINDEX, .kind = T_U32, .vk = VK_IFINDEX },
	{ .type = NETDEV_A_PAGE_POOL_NAPI_ID, .kind = T_U32, .vk = VK_U32 },
	{ .type = NETDEV_A_PAGE_POOL_INFLIGHT, .kind = T_UINT, .vk = VK_U64 },
	{ .type = NETDEV_A_PAGE_POOL_DMABUF, .kind = T_U32, .vk = VK_ID },
};
SET(nd_page_pool, "page-pool", NETDEV_A_PAGE_POOL_MAX);

static const struct amodel nd_pp_stats_attrs[] = {
	{ .type = NETDEV_A_PAGE_POOL_STATS_INFO, .kind = T_NEST, .nest = &nd_page_pool },
};
SET(nd_pp_stats, "page-pool-stats", NETDEV_A_PAGE_POOL_STATS_MAX);

static const struct amodel nd_queue_attrs[] = {
	{ .type = NETDEV_A_QUEUE_ID, .kind = T_U32, .vk = VK_QUEUE },
	{ .type = NETDEV_A_QUEUE_IFINDEX, .kind = T_U32, .vk = VK_IFINDEX },
	{ .type = NETDEV_A_QUEUE_TYPE, .kind = T_U32, .vk = VK_QTYPE },
	{ .type = NETDEV_A_QUEUE_NAPI_ID, .kind = T_U32, .vk = VK_U32 },
	{ .type = NETDEV_A_QUEUE_DMABUF, .kind = T_U32, .vk = VK_ID },
};
SET(nd_queue, "queue", NETDEV_A_QUEUE_MAX);

static const struct amodel nd_napi_attrs[] = {
	{ .type = NETDEV_A_NAPI_IFINDEX, .kind = T_U32, .vk = VK_IFINDEX },
	{ .type = NETDEV_A_NAPI_ID, .kind = T_U32, .vk = VK_U32 },
};
SET(nd_napi, "napi", NETDEV_A_NAPI_MAX);

static const struct amodel nd_qstats_attrs[] = {
	{ .type = NETDEV_A_QSTATS_IFINDEX, .kind = T_U32, .vk = VK_IFINDEX },
	{ .type = NETDEV_A_QSTATS_QUEUE_TYPE, .kind = T_U32, .vk = VK_QTYPE },
	{ .type = NETDEV_A_QSTATS_QUEUE_ID, .kind = T_U32, .vk = VK_QUEUE },
	{ .type = NETDEV_A_QSTATS_SCOPE, .kind = T_UINT, .vk = VK_MASK1 },
};
SET(nd_qstats, "qstats", NETDEV_A_QSTATS_MAX);

/* nlctrl getpolicy: the families' generated policies, dumped */
static const struct amodel ctrl_attrs[] = {
	{ .type = CTRL_ATTR_FAMILY_ID, .kind = T_U16, .vk = VK_FAMID },
	{ .type = CTRL_ATTR_OP, .kind = T_U32, .vk = VK_CMD },
};
SET(ctrl, "ctrl", CTRL_ATTR_MAX);

static const struct req rq_bind[] = {
	{ .type = DEVMEM_A_BINDING_IFINDEX }, { .type = DEVMEM_A_BINDING_FD },
	{ .type = DEVMEM_A_BINDING_QUEUES, .multi = true }, { .type = DEVMEM_A_BINDING_DIRECTION },
	{ .type = DEVMEM_A_BINDING_LIFETIME },
};
static const struct req rq_id[] = { { .type = DEVMEM_A_BINDING_ID } };
static const struct req rq_ifindex[] = { { .type = DEVMEM_A_BINDING_IFINDEX } };
static const struct req rq_nd_bind_rx[] = {
	{ .type = NETDEV_A_DMABUF_IFINDEX }, { .type = NETDEV_A_DMABUF_FD },
	{ .type = NETDEV_A_DMABUF_QUEUES, .multi = true },
};
static const struct req rq_nd_bind_tx[] = {
	{ .type = NETDEV_A_DMABUF_IFINDEX }, { .type = NETDEV_A_DMABUF_FD },
};
static const struct req rq_nd_ifindex1[] = { { .type = 1 } };
static const struct req rq_nd_pp_get[] = { { .type = NETDEV_A_PAGE_POOL_ID } };
static const struct req rq_nd_pp_stats[] = { { .type = NETDEV_A_PAGE_POOL_STATS_INFO } };
static const struct req rq_nd_queue_do[] = {
	{ .type = NETDEV_A_QUEUE_IFINDEX }, { .type = NETDEV_A_QUEUE_TYPE }, { .type = NETDEV_A_QUEUE_ID },
};
static const struct req rq_nd_queue_dump[] = { { .type = NETDEV_A_QUEUE_IFINDEX } };
static const struct req rq_nd_napi_do[] = { { .type = NETDEV_A_NAPI_ID } };
static const struct req rq_nd_napi_dump[] = { { .type = NETDEV_A_NAPI_IFINDEX } };
static const struct req rq_nd_qstats[] = {
	{ .type = NETDEV_A_QSTATS_IFINDEX }, { .type = NETDEV_A_QSTATS_SCOPE },
};
static const struct req rq_ctrl_policy[] = { { .type = CTRL_ATTR_FAMILY_ID }, { .type = CTRL_ATTR_OP } };

#define DO(r)	.doreq = r, .n_do = ARRAY_SIZE(r), .has_do = true
#define DUMP(r)	.dumpreq = r, .n_dump = ARRAY_SIZE(r), .has_dump = true
#define DUMP0	.has_dump = true

static struct opmodel ops[] = {
	{ .name = "bind", .fam = F_DEVMEM, .cmd = DEVMEM_CMD_BIND, .set = &dm_binding, DO(rq_bind), .weight = 26 },
	{ .name = "unbind", .fam = F_DEVMEM, .cmd = DEVMEM_CMD_UNBIND, .set = &dm_binding, DO(rq_id), .weight = 8 },
	{ .name = "binding-get", .fam = F_DEVMEM, .cmd = DEVMEM_CMD_BINDING_GET, .set = &dm_binding,
	  DO(rq_id), DUMP(rq_ifindex), .weight = 8 },
	{ .name = "stats-get", .fam = F_DEVMEM, .cmd = DEVMEM_CMD_STATS_GET, .set = &dm_stats,
	  DO(rq_id), DUMP(rq_ifindex), .weight = 8 },
	{ .name = "dmabuf-get", .fam = F_DEVMEM, .cmd = DEVMEM_CMD_DMABUF_GET, .set = &dm_binding, DO(rq_id), .weight = 6 },
	{ .name = "bind-rx", .fam = F_NETDEV, .cmd = NETDEV_CMD_BIND_RX, .set = &nd_dmabuf, DO(rq_nd_bind_rx), .weight = 20 },
	{ .name = "bind-tx", .fam = F_NETDEV, .cmd = FUZZ_NETDEV_CMD_BIND_TX, .set = &nd_dmabuf, DO(rq_nd_bind_tx), .weight = 10 },
	{ .name = "dev-get", .fam = F_NETDEV, .cmd = NETDEV_CMD_DEV_GET, .set = &nd_dev, DO(rq_nd_ifindex1), DUMP0, .weight = 1 },
	{ .name = "page-pool-get", .fam = F_NETDEV, .cmd = NETDEV_CMD_PAGE_POOL_GET, .set = &nd_page_pool,
	  DO(rq_nd_pp_get), DUMP0, .weight = 2 },
	{ .name = "page-pool-stats-get", .fam = F_NETDEV, .cmd = NETDEV_CMD_PAGE_POOL_STATS_GET, .set = &nd_pp_stats,
	  DO(rq_nd_pp_stats), DUMP0, .weight = 1 },
	{ .name = "queue-get", .fam = F_NETDEV, .cmd = NETDEV_CMD_QUEUE_GET, .set = &nd_queue,
	  DO(rq_nd_queue_do), DUMP(rq_nd_queue_dump), .weight = 2 },
	{ .name = "napi-get", .fam = F_NETDEV, .cmd = NETDEV_CMD_NAPI_GET, .set = &nd_napi,
	  DO(rq_nd_napi_do), DUMP(rq_nd_napi_dump), .weight = 1 },
	{ .name = "qstats-get", .fam = F_NETDEV, .cmd = NETDEV_CMD_QSTATS_GET, .set = &nd_qstats, DUMP(rq_nd_qstats), .weight = 1 },
	{ .name = "getpolicy", .fam = F_NLCTRL, .cmd = CTRL_CMD_GETPOLICY, .set = &ctrl, DUMP(rq_ctrl_policy), .weight = 2 },
};

/* --- what the fuzzer knows of the system ------------------------------------ */

struct family {
	uint16_t id;
	uint32_t mgmt_grp;
	uint8_t ops[256];	/* GENL_CMD_CAP_* | 0x80 (present) per cmd */
	unsigned int max_cmd;
};
static struct family fams[F_NR];

/* message types of other families: never sent (devlink, ethtool, ... can
 * change or destroy the devices under the test)
 */
static uint16_t foreign[512];
static unsigned int n_foreign;

struct netif {
	uint32_t ifindex;
	uint32_t rx_queues;
	bool parentless;	/* no parent device (lo, veth): nothing to DMA */
};
static struct netif ifs[64];
static unsigned int n_ifs;
static uint32_t max_queues = 1;

static uint32_t protected_ids[MAX_PROTECTED];
static unsigned int n_protected;
static uint32_t made_ids[64];
static unsigned int n_made;
static uint32_t seen_ids[64];		/* every id a reply named, for VK_ID */
static unsigned int n_seen;

/* fds: dmabufs of several sizes, and fds that are not dmabufs */
static int dmabuf_fds[4];
static unsigned int n_dmabuf_fds;
static int other_fds[8];
static unsigned int n_other_fds;
static int closed_fd = 1000;
static bool my_fd[MAX_FDS];

static void own_fd(int fd)
{
	if (fd >= 0 && fd < MAX_FDS)
		my_fd[fd] = true;
}

static void close_fd(int fd)
{
	if (fd >= 0 && fd < MAX_FDS)
		my_fd[fd] = false;
	close(fd);
}

/* --- statistics ----------------------------------------------------------- */

/* ops as the kernel saw them: family x cmd, plus the odd ones */
#define K_OTHER		(F_NR * 256)	/* another message type */
#define K_SHORT		(K_OTHER + 1)	/* no whole genl header */
#define K_NR		(K_OTHER + 2)

struct opstat {
	unsigned long sent, ok, data, err[MAX_ERRNO + 1];
	unsigned long sends;	/* sendmsg calls whose first message it was */
	double seconds;		/* in those calls */
};
static struct opstat stats[K_NR];
/* messages: as the kernel walks them; built: made, some cut off by a lie */
static unsigned long n_messages, n_built, n_sends, n_send_err[MAX_ERRNO + 1];
static unsigned long n_replies, n_unmatched, n_overruns, n_dumps_cut;
static unsigned long n_made_devmem, n_made_netdev, n_unbound_cap, n_reopens;
static unsigned long n_dmabuf_got, n_stray_fds, n_scrubbed;

/* which op each outstanding sequence number was */
#define SEQ_RING	8192
static struct { uint32_t seq; uint16_t key; } seq_ring[SEQ_RING];
static uint32_t next_seq = 1;

static void seq_note(uint32_t seq, uint16_t key)
{
	seq_ring[seq % SEQ_RING].seq = seq;
	seq_ring[seq % SEQ_RING].key = key;
}

static int seq_key(uint32_t seq)
{
	if (seq && seq_ring[seq % SEQ_RING].seq == seq)
		return seq_ring[seq % SEQ_RING].key;
	return -1;
}

static const char *key_name(unsigned int key, char *buf, size_t len)
{
	unsigned int f = key / 256, cmd = key % 256, i;

	if (key == K_OTHER)
		return "other-type";
	if (key == K_SHORT)
		return "short-header";
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (ops[i].fam == f && ops[i].cmd == cmd) {
			snprintf(buf, len, "%s/%s", fam_names[f], ops[i].name);
			return buf;
		}
	snprintf(buf, len, "%s/cmd-%u", fam_names[f], cmd);
	return buf;
}

static const char *errname(int e)
{
	const char *s = strerrorname_np(e);
	static char buf[16];

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* --- raw netlink ----------------------------------------------------------- */

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int one = 1, big = 4 << 20;

	if (fd < 0)
		die("netlink socket: %s", strerror(errno));
	own_fd(fd);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return fd;
}

static int nl_send(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa));
}

struct nlbuf {
	uint8_t b[MSG_MAX];
	size_t len;
};

static void nb_hdr(struct nlbuf *m, uint16_t type, uint16_t flags, uint32_t seq,
		   uint8_t cmd)
{
	struct nlmsghdr *nlh = (void *)m->b;
	struct genlmsghdr *g = (void *)(m->b + NLMSG_HDRLEN);

	memset(m->b, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g->cmd = cmd;
	g->version = 1;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void nb_put(struct nlbuf *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (void *)(m->b + m->len);

	a->nla_type = type;
	a->nla_len = NLA_HDR + len;
	memcpy(a + 1, data, len);
	memset((uint8_t *)(a + 1) + len, 0, NLA_ALIGN(len) - len);
	m->len += NLA_ALIGN(NLA_HDR + len);
}

static void nb_end(struct nlbuf *m)
{
	((struct nlmsghdr *)m->b)->nlmsg_len = m->len;
}

/* the next attribute of [*p, *p + *len), stepping past it; NULL at the end */
static const struct nlattr *attr_next(const uint8_t **p, size_t *len)
{
	const struct nlattr *a = (const void *)*p;
	size_t step;

	if (*len < NLA_HDR || a->nla_len < NLA_HDR || a->nla_len > *len)
		return NULL;
	step = NLA_ALIGN((size_t)a->nla_len);
	if (step > *len)
		step = *len;
	*p += step;
	*len -= step;
	return a;
}

/* attribute @type of the attributes in [p, p + len), or NULL */
static const struct nlattr *attr_find(const uint8_t *p, size_t len, uint16_t type)
{
	const struct nlattr *a;

	while ((a = attr_next(&p, &len)))
		if ((a->nla_type & NLA_TYPE_MASK_) == type)
			return a;
	return NULL;
}

static bool attr_u32(const uint8_t *p, size_t len, uint16_t type, uint32_t *v)
{
	const struct nlattr *a = attr_find(p, len, type);

	if (!a || a->nla_len < NLA_HDR + 4)
		return false;
	memcpy(v, a + 1, 4);
	return true;
}

/* the next whole message of [*p, *p + *len), stepping past it; NULL at the end */
static const struct nlmsghdr *msg_next(const uint8_t **p, size_t *len)
{
	const struct nlmsghdr *nlh = (const void *)*p;
	size_t step;

	if (*len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > *len)
		return NULL;
	step = NLMSG_ALIGN((size_t)nlh->nlmsg_len);
	if (step > *len)
		step = *len;
	*p += step;
	*len -= step;
	return nlh;
}

typedef void (*reply_fn)(const struct nlmsghdr *nlh, void *arg);

/* the control socket: send one clean request, wait for its answer;
 * returns 0 or a negative errno
 */
static int ctl_fd = -1;

static int ctl_request(struct nlbuf *m, reply_fn fn, void *arg)
{
	static uint8_t rx[RX_BUF];
	struct nlmsghdr *req = (void *)m->b;
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	uint32_t seq = req->nlmsg_seq;
	const struct nlmsghdr *nlh;
	const uint8_t *q;
	size_t left;
	ssize_t n;

	if (nl_send(ctl_fd, m->b, m->len) < 0)
		return -errno;
	for (;;) {
		n = recv(ctl_fd, rx, sizeof(rx), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		q = rx;
		left = n;
		while ((nlh = msg_next(&q, &left))) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (fn)
				fn(nlh, arg);
			if (!dump && !(req->nlmsg_flags & NLM_F_ACK))
				return 0;
		}
	}
}

static uint32_t ctl_seq = 1u << 31;

/* CTRL_CMD_GETFAMILY: id, ops and the mgmt group of family @name */
static void family_reply(const struct nlmsghdr *nlh, void *arg)
{
	const uint8_t *p = (const uint8_t *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	size_t len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	struct family *f = arg;
	const struct nlattr *a, *op, *grp;

	a = attr_find(p, len, CTRL_ATTR_FAMILY_ID);
	if (a)
		f->id = *(const uint16_t *)(a + 1);
	a = attr_find(p, len, CTRL_ATTR_OPS);
	if (a) {
		const uint8_t *q = (const uint8_t *)(a + 1);
		size_t ql = a->nla_len - NLA_HDR;

		while ((op = attr_next(&q, &ql))) {
			const uint8_t *o = (const uint8_t *)(op + 1);
			size_t ol = op->nla_len - NLA_HDR;
			uint32_t id, flags = 0;

			if (!attr_u32(o, ol, CTRL_ATTR_OP_ID, &id) || id >= 256)
				continue;
			attr_u32(o, ol, CTRL_ATTR_OP_FLAGS, &flags);
			f->ops[id] = 0x80 | (flags & (GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP));
			if (id > f->max_cmd)
				f->max_cmd = id;
		}
	}
	a = attr_find(p, len, CTRL_ATTR_MCAST_GROUPS);
	if (a) {
		const uint8_t *q = (const uint8_t *)(a + 1);
		size_t ql = a->nla_len - NLA_HDR;

		while ((grp = attr_next(&q, &ql))) {
			const uint8_t *g = (const uint8_t *)(grp + 1);
			size_t gl = grp->nla_len - NLA_HDR;
			const struct nlattr *name = attr_find(g, gl, CTRL_ATTR_MCAST_GRP_NAME);
			uint32_t id;

			if (name && !strcmp((const char *)(name + 1), "mgmt") &&
			    attr_u32(g, gl, CTRL_ATTR_MCAST_GRP_ID, &id))
				f->mgmt_grp = id;
		}
	}
}

static int resolve_family(const char *name, struct family *f)
{
	struct nlbuf m;

	nb_hdr(&m, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, ctl_seq++, CTRL_CMD_GETFAMILY);
	nb_put(&m, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	nb_end(&m);
	return ctl_request(&m, family_reply, f);
}

static void foreign_reply(const struct nlmsghdr *nlh, void *arg)
{
	const uint8_t *p = (const uint8_t *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	size_t len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	const struct nlattr *a = attr_find(p, len, CTRL_ATTR_FAMILY_ID);
	uint16_t id;
	unsigned int i;

	if (!a || n_foreign >= ARRAY_SIZE(foreign))
		return;
	id = *(const uint16_t *)(a + 1);
	for (i = 0; i < F_NR; i++)
		if (fams[i].id == id)
			return;
	foreign[n_foreign++] = id;
}

static void list_families(void)
{
	struct nlbuf m;
	int err;

	nb_hdr(&m, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP, ctl_seq++, CTRL_CMD_GETFAMILY);
	nb_end(&m);
	err = ctl_request(&m, foreign_reply, NULL);
	if (err)
		die("CTRL_CMD_GETFAMILY dump: %s", strerror(-err));
}

static bool is_foreign(uint16_t type)
{
	unsigned int i;

	for (i = 0; i < n_foreign; i++)
		if (foreign[i] == type)
			return true;
	return false;
}

/* the bindings listed now, ids in @ids (up to @max) */
struct idlist {
	uint32_t ids[1024];
	uint32_t state[1024];
	unsigned int n;
};

static void binding_reply(const struct nlmsghdr *nlh, void *arg)
{
	const uint8_t *p = (const uint8_t *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	size_t len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	struct idlist *l = arg;
	uint32_t id, st = 0;

	if (l->n < ARRAY_SIZE(l->ids) && attr_u32(p, len, DEVMEM_A_BINDING_ID, &id)) {
		attr_u32(p, len, DEVMEM_A_BINDING_STATE, &st);
		l->ids[l->n] = id;
		l->state[l->n++] = st;
	}
}

static int list_bindings(struct idlist *l)
{
	struct nlbuf m;

	l->n = 0;
	nb_hdr(&m, fams[F_DEVMEM].id, NLM_F_REQUEST | NLM_F_DUMP, ctl_seq++,
	       DEVMEM_CMD_BINDING_GET);
	nb_end(&m);
	return ctl_request(&m, binding_reply, l);
}

static int unbind_id(uint32_t id)
{
	struct nlbuf m;

	nb_hdr(&m, fams[F_DEVMEM].id, NLM_F_REQUEST | NLM_F_ACK, ctl_seq++,
	       DEVMEM_CMD_UNBIND);
	nb_put(&m, DEVMEM_A_BINDING_ID, &id, 4);
	nb_end(&m);
	return ctl_request(&m, NULL, NULL);
}

static bool is_protected(uint32_t id)
{
	unsigned int i;

	for (i = 0; i < n_protected; i++)
		if (protected_ids[i] == id)
			return true;
	return false;
}

/* --- the system under test ---------------------------------------------------- */

static int udmabuf_new(size_t size)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = size };
	int dev, memfd, fd;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("/dev/udmabuf: %s", strerror(errno));
	memfd = memfd_create("devmem_fuzz", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, size) < 0 ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		die("memfd for a udmabuf: %s", strerror(errno));
	c.memfd = memfd;
	fd = ioctl(dev, UDMABUF_CREATE, &c);
	if (fd < 0)
		die("UDMABUF_CREATE of %zu bytes: %s", size, strerror(errno));
	close(memfd);
	close(dev);
	own_fd(fd);
	return fd;
}

static void make_fds(void)
{
	int p[2], fd;

	/* the sizes: one page (too small for a page pool), 64K, 2M */
	dmabuf_fds[n_dmabuf_fds++] = udmabuf_new(4096);
	dmabuf_fds[n_dmabuf_fds++] = udmabuf_new(64 << 10);
	dmabuf_fds[n_dmabuf_fds++] = udmabuf_new(2 << 20);

	fd = memfd_create("devmem_fuzz-plain", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, 1 << 20) == 0)
		other_fds[n_other_fds++] = fd;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		other_fds[n_other_fds++] = fd;
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd >= 0)
		other_fds[n_other_fds++] = fd;
	if (pipe2(p, O_CLOEXEC) == 0) {
		other_fds[n_other_fds++] = p[0];
		other_fds[n_other_fds++] = p[1];
	}
	fd = open("/", O_PATH | O_CLOEXEC);
	if (fd >= 0)
		other_fds[n_other_fds++] = fd;
	fd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		other_fds[n_other_fds++] = fd;
	for (unsigned int i = 0; i < n_other_fds; i++)
		own_fd(other_fds[i]);
	/* a number that is no open fd */
	while (fcntl(closed_fd, F_GETFD) >= 0)
		closed_fd++;
}

static void find_ifs(void)
{
	struct if_nameindex *ni = if_nameindex(), *i;
	char path[PATH_MAX];

	if (!ni)
		die("if_nameindex: %s", strerror(errno));
	for (i = ni; i->if_index && n_ifs < ARRAY_SIZE(ifs); i++) {
		struct dirent *d;
		DIR *dir;
		uint32_t q = 0;

		snprintf(path, sizeof(path), "/sys/class/net/%s/queues", i->if_name);
		dir = opendir(path);
		while (dir && (d = readdir(dir)))
			if (!strncmp(d->d_name, "rx-", 3))
				q++;
		if (dir)
			closedir(dir);
		snprintf(path, sizeof(path), "/sys/class/net/%s/device", i->if_name);
		ifs[n_ifs].parentless = access(path, F_OK) != 0;
		ifs[n_ifs].ifindex = i->if_index;
		ifs[n_ifs++].rx_queues = q;
		if (q > max_queues)
			max_queues = q;
	}
	if_freenameindex(ni);
}

/* --- values ---------------------------------------------------------------- */

static uint32_t boundary32(void)
{
	static const uint32_t b[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 255, 256, 4095, 4096, 65535, 65536,
		0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	};

	return b[below(ARRAY_SIZE(b))];
}

static uint64_t boundary64(void)
{
	static const uint64_t b[] = {
		0, 1, 0xffffffffULL, 0x100000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, ~0ULL,
	};

	return pct(50) ? boundary32() : b[below(ARRAY_SIZE(b))];
}

static uint32_t value32(uint8_t vk)
{
	switch (vk) {
	case VK_ID:
		if (n_protected && pct(25))
			return protected_ids[below(n_protected)];
		if (n_seen && pct(30))
			return seen_ids[below(n_seen)];
		if (pct(15))
			/* the next ids the kernel hands out */
			return (n_seen ? seen_ids[n_seen - 1] : 1) + range(1, 3);
		return pct(70) ? boundary32() : (uint32_t)rnd();
	case VK_IFINDEX:
		if (pct(75) && n_ifs) {
			/* mostly the devices with the most queues (the netdevsim port) */
			unsigned int i = below(n_ifs);

			if (pct(70))
				for (unsigned int j = 0; j < n_ifs; j++)
					if (ifs[j].rx_queues == max_queues)
						i = j;
			return ifs[i].ifindex;
		}
		return pct(50) ? boundary32() : range(1, 1000);
	case VK_FD:
		if (pct(35) && n_dmabuf_fds) {
			/* mapping 2M of udmabuf costs: mostly the small ones */
			unsigned int i = pct(50) ? 0 : pct(75) ? 1 : 2;

			return dmabuf_fds[i < n_dmabuf_fds ? i : 0];
		}
		if (pct(45) && n_other_fds)
			return other_fds[below(n_other_fds)];
		if (pct(20))
			return closed_fd;
		return pct(60) ? boundary32() : below(256);
	case VK_QUEUE:
		if (pct(80))
			return below(max_queues + 2);
		return pct(60) ? boundary32() : (uint32_t)rnd();
	case VK_ENUM2:
		if (pct(85))
			return below(2);
		return pct(50) ? range(2, 4) : boundary32();
	case VK_QTYPE:
		if (pct(85))
			return pct(85) ? NETDEV_QUEUE_TYPE_RX : NETDEV_QUEUE_TYPE_TX;
		return pct(50) ? 2 : boundary32();
	case VK_FAMID:
		if (pct(80))
			return pct(50) ? fams[F_DEVMEM].id : fams[F_NETDEV].id;
		return pct(50) ? GENL_ID_CTRL : boundary32();
	case VK_CMD:
		if (pct(80))
			return below(18);
		return boundary32();
	case VK_PPID:
		if (pct(80))
			return range(1, 64);
		return boundary32();
	case VK_MASK1:
		return pct(80) ? below(2) : boundary32();
	case VK_U64:
	case VK_U32:
	default:
		return pct(60) ? boundary32() : (uint32_t)rnd();
	}
}

/* --- a request, as a list of attributes in depth-first order ---------------- */

struct attr {
	uint16_t type;		/* as sent, with any NLA_F_* flags */
	uint8_t depth;
	bool nest;		/* the payload is the deeper attributes that follow */
	bool raw;		/* bytes without an attribute header */
	const struct amodel *m;	/* NULL for made-up attributes */
	const struct aset *set;	/* the set this attribute is in */
	uint32_t off;		/* payload (or a nest's trailing garbage) in the arena */
	uint16_t len;
};

struct request {
	struct attr a[MAX_ATTRS];
	unsigned int n;
	uint8_t arena[ARENA_SIZE];
	size_t used;
	const struct opmodel *op;
	bool dump;
	uint16_t nltype, nlflags;
	uint32_t seq, pid;
	uint8_t cmd, version;
	uint16_t reserved;
	bool nopad;
};

static struct request R;

static uint8_t *arena(struct request *r, size_t len, uint32_t *off)
{
	if (r->used + len > ARENA_SIZE)
		return NULL;
	*off = r->used;
	r->used += len;
	return r->arena + *off;
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = rnd();
}

/* the payload of a scalar attribute of model @m, plausible */
static void set_value(struct request *r, struct attr *a)
{
	const struct amodel *m = a->m;
	uint8_t *p;
	size_t len = 4;

	if (!m) {
		len = pct(50) ? 4 : below(24);
		p = arena(r, len, &a->off);
		if (p)
			fill_random(p, len);
		a->len = p ? len : 0;
		return;
	}
	switch (m->kind) {
	case T_U16:
		len = 2;
		break;
	case T_UINT:
		len = pct(50) ? 4 : 8;
		break;
	case T_STR:
		len = below(40);
		break;
	default:
		break;
	}
	p = arena(r, len, &a->off);
	if (!p) {
		a->len = 0;
		return;
	}
	a->len = len;
	if (m->kind == T_STR) {
		for (size_t i = 0; i < len; i++)
			p[i] = range(0x20, 0x7e);
		if (len && pct(80))
			p[len - 1] = 0;
	} else if (len == 8) {
		uint64_t v = m->vk == VK_U64 ? (pct(50) ? boundary64() : rnd()) : value32(m->vk);

		memcpy(p, &v, 8);
	} else {
		uint32_t v = value32(m->vk);

		memcpy(p, &v, len);
	}
}

static const struct amodel *model_of(const struct aset *set, uint16_t type)
{
	for (unsigned int i = 0; set && i < set->n; i++)
		if (set->attrs[i].type == type)
			return &set->attrs[i];
	return NULL;
}

/* insert a room for @n attributes at @at; false when full */
static bool make_room(struct request *r, unsigned int at, unsigned int n)
{
	if (r->n + n > MAX_ATTRS)
		return false;
	memmove(&r->a[at + n], &r->a[at], (r->n - at) * sizeof(r->a[0]));
	r->n += n;
	return true;
}

/* the index after the subtree of attribute @i */
static unsigned int subtree_end(const struct request *r, unsigned int i)
{
	unsigned int j = i + 1;

	while (j < r->n && r->a[j].depth > r->a[i].depth)
		j++;
	return j;
}

/* append attribute @m of @set at depth @depth (a nest gets plausible children) */
static void add_attr(struct request *r, const struct aset *set, const struct amodel *m,
		     uint8_t depth)
{
	struct attr *a;

	if (r->n >= MAX_ATTRS)
		return;
	a = &r->a[r->n++];
	memset(a, 0, sizeof(*a));
	a->type = m->type;
	a->depth = depth;
	a->m = m;
	a->set = set;
	if (m->kind == T_NEST) {
		a->nest = true;
		a->type |= pct(90) ? NLA_F_NESTED : 0;
		for (unsigned int i = 0; i < m->nest->n; i++)
			if (pct(90))
				add_attr(r, m->nest, &m->nest->attrs[i], depth + 1);
		return;
	}
	set_value(r, a);
}

static unsigned int multi_count(void)
{
	if (pct(60))
		return range(1, 2);
	if (pct(85))
		return range(3, 8);
	return range(9, 64);
}

static uint16_t key_of(uint16_t type, uint8_t cmd);

static void build_valid(struct request *r, const struct opmodel *op, bool dump)
{
	const struct req *rq = dump ? op->dumpreq : op->doreq;
	unsigned int n = dump ? op->n_dump : op->n_do;

	r->n = 0;
	r->used = 0;
	r->op = op;
	r->dump = dump;
	r->nltype = fams[op->fam].id;
	r->nlflags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0) | (pct(50) ? NLM_F_ACK : 0);
	r->seq = next_seq++;
	r->pid = 0;
	r->cmd = op->cmd;
	r->version = 1;
	r->reserved = 0;
	r->nopad = false;
	for (unsigned int i = 0; i < n; i++) {
		const struct amodel *m = model_of(op->set, rq[i].type);
		unsigned int c = rq[i].multi ? multi_count() : 1;

		if (!m || pct(8))
			continue;
		while (c--)
			add_attr(r, op->set, m, 0);
	}
	/* attributes come in any order */
	if (r->n > 1 && pct(10)) {
		unsigned int a = below(r->n);

		if (r->a[a].depth == 0 && subtree_end(r, a) == a + 1 && r->a[0].depth == 0 &&
		    subtree_end(r, 0) == 1) {
			struct attr t = r->a[0];

			r->a[0] = r->a[a];
			r->a[a] = t;
		}
	}
}

/* --- mutations ---------------------------------------------------------------- */

static int pick_attr(struct request *r, bool scalar)
{
	unsigned int tries;

	if (!r->n)
		return -1;
	for (tries = 0; tries < 8; tries++) {
		unsigned int i = below(r->n);

		if (r->a[i].raw)
			continue;
		if (!scalar || !r->a[i].nest)
			return i;
	}
	return -1;
}

static void mut_value(struct request *r)
{
	int i = pick_attr(r, true);
	struct attr *a;
	uint8_t *p;

	if (i < 0)
		return;
	a = &r->a[i];
	if (!a->len || pct(40)) {
		set_value(r, a);
		return;
	}
	p = r->arena + a->off;
	switch (below(4)) {
	case 0: {	/* one bit */
		unsigned int bit = below(a->len * 8);

		p[bit / 8] ^= 1 << (bit % 8);
		break;
	}
	case 1: {	/* a boundary */
		uint32_t v = boundary32();

		memcpy(p, &v, a->len < 4 ? a->len : 4);
		break;
	}
	case 2:		/* another field's kind of value */
		{
			uint32_t v = value32(below(VK_MASK1 + 1));

			memcpy(p, &v, a->len < 4 ? a->len : 4);
		}
		break;
	default:
		fill_random(p, a->len);
	}
}

static void mut_size(struct request *r)
{
	static const uint16_t sizes[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 12, 16, 64, 255, 1024 };
	int i = pick_attr(r, true);
	struct attr *a;
	uint16_t len;
	uint8_t *p;
	uint32_t off;

	if (i < 0)
		return;
	a = &r->a[i];
	len = pct(85) ? sizes[below(ARRAY_SIZE(sizes))] : below(4000);
	p = arena(r, len, &off);
	if (!p)
		return;
	/* the old value first, so an 8-byte u32 still holds a plausible one */
	memset(p, 0, len);
	memcpy(p, r->arena + a->off, a->len < len ? a->len : len);
	if (len > a->len && pct(30))
		fill_random(p + a->len, len - a->len);
	a->off = off;
	a->len = len;
}

static void mut_type(struct request *r)
{
	int i = pick_attr(r, false);
	struct attr *a;
	uint16_t flags;

	if (i < 0)
		return;
	a = &r->a[i];
	flags = a->type & ~NLA_TYPE_MASK_;
	switch (below(5)) {
	case 0:		/* another attribute of its set */
		if (a->set && a->set->n)
			a->type = a->set->attrs[below(a->set->n)].type | flags;
		break;
	case 1:
		a->type = flags;
		break;
	case 2:		/* just past the set's (and the policy's) max */
		a->type = ((a->set ? a->set->max : 8) + range(1, 3)) | flags;
		break;
	case 3:		/* an attribute of the other family */
		a->type = range(1, 15) | flags;
		break;
	default:
		a->type = rnd();
	}
}

/* a made-up attribute at a random place (top level or inside a nest) */
static void insert_attr(struct request *r, uint16_t type, bool nest_ok)
{
	unsigned int at = r->n ? below(r->n + 1) : 0;
	uint8_t depth = 0;
	struct attr *a;

	if (at < r->n && nest_ok)
		depth = r->a[at].depth;
	else if (at && r->a[at - 1].nest)
		depth = r->a[at - 1].depth + 1;
	if (!make_room(r, at, 1))
		return;
	a = &r->a[at];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->depth = depth;
	set_value(r, a);
}

static void mut_unknown(struct request *r)
{
	uint16_t max = r->op->set->max;
	uint16_t t = pct(60) ? max + range(1, 40) : range(max + 1, NLA_TYPE_MASK_);

	insert_attr(r, t | (pct(10) ? NLA_F_NESTED : 0), true);
}

static void mut_dup(struct request *r)
{
	int i = pick_attr(r, false);
	unsigned int end, len, copies;

	if (i < 0)
		return;
	end = subtree_end(r, i);
	len = end - i;
	copies = pct(80) ? range(1, 3) : range(4, 200);
	while (copies-- && make_room(r, end, len))
		memcpy(&r->a[end], &r->a[i], len * sizeof(r->a[0]));
}

static void mut_drop(struct request *r)
{
	int i = pick_attr(r, false);
	unsigned int end;

	if (i < 0)
		return;
	end = subtree_end(r, i);
	memmove(&r->a[i], &r->a[end], (r->n - end) * sizeof(r->a[0]));
	r->n -= end - i;
}

static void mut_flags(struct request *r)
{
	int i = pick_attr(r, false);

	if (i < 0)
		return;
	r->a[i].type ^= pct(50) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER;
}

static void mut_nest(struct request *r)
{
	int i = pick_attr(r, false);
	struct attr *a;
	uint8_t *p;

	if (i < 0)
		return;
	a = &r->a[i];
	if (!a->nest) {
		/* a scalar holding attributes (of its own set or garbage) */
		unsigned int n = range(1, 4), at = i + 1;
		const struct aset *set = a->set;

		a->nest = true;
		a->len = 0;
		if (pct(50))
			a->type |= NLA_F_NESTED;
		while (n-- && set && make_room(r, at, 1)) {
			struct attr *c = &r->a[at];
			const struct amodel *m = &set->attrs[below(set->n)];

			memset(c, 0, sizeof(*c));
			c->type = m->kind == T_NEST ? m->type : m->type;
			c->depth = a->depth + 1;
			c->m = m->kind == T_NEST ? NULL : m;
			c->set = set;
			set_value(r, c);
		}
		return;
	}
	switch (below(3)) {
	case 0:		/* garbage after the nest's attributes */
		a->len = pct(50) ? range(1, 3) : range(4, 64);
		p = arena(r, a->len, &a->off);
		if (p)
			fill_random(p, a->len);
		else
			a->len = 0;
		break;
	case 1: {	/* a nest as a scalar: its children become its siblings */
		unsigned int end = subtree_end(r, i);

		a->nest = false;
		for (unsigned int j = i + 1; j < end; j++)
			r->a[j].depth--;
		set_value(r, a);
		break;
	}
	default:	/* an empty nest */
		{
			unsigned int end = subtree_end(r, i);

			memmove(&r->a[i + 1], &r->a[end], (r->n - end) * sizeof(r->a[0]));
			r->n -= end - i - 1;
		}
	}
}

static void mut_deep(struct request *r)
{
	unsigned int depth = pct(70) ? range(2, 12) : range(13, 250);
	const struct amodel *leaf = &r->op->set->attrs[below(r->op->set->n)];
	unsigned int at = r->n;
	uint16_t type = leaf->type;

	if (!make_room(r, at, depth))
		return;
	for (unsigned int d = 0; d < depth; d++) {
		struct attr *a = &r->a[at + d];

		memset(a, 0, sizeof(*a));
		a->type = (pct(70) ? type : range(1, 8)) | (pct(80) ? NLA_F_NESTED : 0);
		a->depth = d;
		a->nest = true;
		a->set = r->op->set;
	}
	if (leaf->kind != T_NEST && r->n < MAX_ATTRS) {
		struct attr *a = &r->a[r->n++];

		memset(a, 0, sizeof(*a));
		a->type = leaf->type;
		a->depth = depth;
		a->m = leaf;
		a->set = r->op->set;
		set_value(r, a);
	}
}

static void mut_huge(struct request *r)
{
	const struct opmodel *op = r->op;
	const struct req *rq = r->dump ? op->dumpreq : op->doreq;
	unsigned int n = r->dump ? op->n_dump : op->n_do;
	const struct amodel *m = NULL;
	unsigned int count = pct(50) ? range(100, 1000) : range(1000, 6000);

	for (unsigned int i = 0; i < n; i++)
		if (rq[i].multi)
			m = model_of(op->set, rq[i].type);
	if (!m || pct(20))
		m = &op->set->attrs[below(op->set->n)];
	while (count-- && r->n < MAX_ATTRS - 8 && r->used < ARENA_SIZE - 64) {
		unsigned int before = r->n;

		add_attr(r, op->set, m, 0);
		if (r->n == before)
			break;
	}
}

static void mut_garbage(struct request *r)
{
	unsigned int len = pct(70) ? below(64) : below(4096);
	struct attr *a;

	if (pct(50))
		r->n = 0;
	if (r->n >= MAX_ATTRS)
		return;
	a = &r->a[r->n++];
	memset(a, 0, sizeof(*a));
	a->raw = true;
	if (!arena(r, len, &a->off))
		len = 0;
	a->len = len;
	fill_random(r->arena + a->off, len);
	/* garbage that looks like attributes, with plausible types */
	for (unsigned int o = 0; o + 4 <= len && pct(50); o += 4 + below(12)) {
		struct nlattr h = {
			.nla_len = range(0, 24),
			.nla_type = range(0, r->op->set->max + 2),
		};

		memcpy(r->arena + a->off + o, &h, NLA_HDR);
	}
}

static const struct opmodel *pick_op(void);

static void mut_cmd(struct request *r)
{
	if (pct(60)) {
		/* another op of the family (or any family): its attrs, our cmd */
		const struct opmodel *o = pick_op();

		r->cmd = o->cmd;
		return;
	}
	switch (below(3)) {
	case 0:
		r->cmd = below(fams[r->op->fam].max_cmd + 3);
		break;
	case 1:
		r->cmd = pct(50) ? 0 : 255;
		break;
	default:
		r->cmd = rnd();
	}
}

static void mut_version(struct request *r)
{
	if (pct(60))
		r->version = pct(50) ? 0 : range(2, 255);
	else
		r->reserved = rnd();
}

static void mut_nlflags(struct request *r)
{
	static const uint16_t f[] = {
		NLM_F_DUMP, NLM_F_ROOT, NLM_F_MATCH, NLM_F_ATOMIC, NLM_F_ACK, NLM_F_ECHO,
		NLM_F_MULTI, NLM_F_DUMP_INTR, NLM_F_DUMP_FILTERED, NLM_F_REPLACE,
		NLM_F_EXCL, NLM_F_CREATE, NLM_F_APPEND, NLM_F_NONREC, NLM_F_BULK,
	};

	switch (below(4)) {
	case 0:
		r->nlflags ^= f[below(ARRAY_SIZE(f))];
		break;
	case 1:
		r->nlflags ^= NLM_F_DUMP;
		break;
	case 2:
		r->nlflags &= ~NLM_F_REQUEST;
		break;
	default:
		r->nlflags = rnd() | (pct(80) ? NLM_F_REQUEST : 0);
	}
}

static void mut_nltype(struct request *r)
{
	switch (below(4)) {
	case 0:
		r->nltype = fams[r->op->fam == F_DEVMEM ? F_NETDEV : F_DEVMEM].id;
		break;
	case 1:
		r->nltype = below(NLMSG_MIN_TYPE + 1);
		break;
	case 2:
		r->nltype = GENL_ID_CTRL;
		break;
	default:
		r->nltype = rnd();	/* a foreign family's is redrawn at send */
	}
}

static void mut_seqpid(struct request *r)
{
	if (pct(50))
		r->pid = pct(50) ? (uint32_t)getpid() : (uint32_t)rnd();
	else
		r->seq = pct(50) ? 0 : (uint32_t)rnd();
}

static void mutate(struct request *r, enum mclass mc)
{
	mc_used[mc]++;
	switch (mc) {
	case MC_VALUE: mut_value(r); break;
	case MC_SIZE: mut_size(r); break;
	case MC_TYPE: mut_type(r); break;
	case MC_UNKNOWN: mut_unknown(r); break;
	case MC_DUP: mut_dup(r); break;
	case MC_DROP: mut_drop(r); break;
	case MC_FLAGS: mut_flags(r); break;
	case MC_NEST: mut_nest(r); break;
	case MC_DEEP: mut_deep(r); break;
	case MC_HUGE: mut_huge(r); break;
	case MC_GARBAGE: mut_garbage(r); break;
	case MC_CMD: mut_cmd(r); break;
	case MC_VERSION: mut_version(r); break;
	case MC_NLFLAGS: mut_nlflags(r); break;
	case MC_NLTYPE: mut_nltype(r); break;
	case MC_SEQPID: mut_seqpid(r); break;
	case MC_UNALIGNED: r->nopad = true; break;
	default: break;	/* byte-level: in serialize() */
	}
}

/* --- serialization ------------------------------------------------------------ */

struct out {
	uint8_t *b;
	size_t len, cap;
	uint32_t hdrs[MAX_ATTRS];	/* offsets of the attribute headers */
	unsigned int n_hdrs;
};

static void out_put(struct out *o, const void *p, size_t len)
{
	if (o->len + len > o->cap)
		len = o->cap - o->len;
	memcpy(o->b + o->len, p, len);
	o->len += len;
}

static void out_pad(struct out *o, bool nopad)
{
	static const uint8_t zero[4];

	if (!nopad)
		out_put(o, zero, NLA_ALIGN(o->len) - o->len);
}

static unsigned int ser_attr(const struct request *r, unsigned int i, struct out *o)
{
	const struct attr *a = &r->a[i];
	size_t start = o->len;
	struct nlattr h = { .nla_type = a->type };
	unsigned int j = i + 1;

	if (a->raw) {
		out_put(o, r->arena + a->off, a->len);
		return subtree_end(r, i);
	}
	if (o->len + NLA_HDR > o->cap)
		return subtree_end(r, i);
	out_put(o, &h, NLA_HDR);
	if (o->n_hdrs < MAX_ATTRS)
		o->hdrs[o->n_hdrs++] = start;
	if (a->nest) {
		while (j < r->n && r->a[j].depth > a->depth)
			j = ser_attr(r, j, o);
		out_put(o, r->arena + a->off, a->len);
	} else {
		out_put(o, r->arena + a->off, a->len);
		j = subtree_end(r, i);
	}
	/* an attribute longer than nla_len can say wraps: a lie of its own */
	h.nla_len = o->len - start;
	memcpy(o->b + start, &h, NLA_HDR);
	out_pad(o, r->nopad);
	return j;
}

static uint32_t nlmsglen_lie(uint32_t real)
{
	static const uint32_t l[] = { 0, 1, 4, 15, 16, 17, 19, 20, 21, 0xffff, 0xffffffff };

	switch (below(3)) {
	case 0: return l[below(ARRAY_SIZE(l))];
	case 1: return real + range(1, 64);
	default: return real > 1 ? real - range(1, real - 1 < 64 ? real - 1 : 64) : 0;
	}
}

static void lie_nla_len(struct out *o)
{
	struct nlattr h;
	uint32_t off;
	uint16_t real;

	if (!o->n_hdrs)
		return;
	off = o->hdrs[below(o->n_hdrs)];
	if (off + NLA_HDR > o->len)
		return;
	/* (unaligned attributes: memcpy) */
	memcpy(&h, o->b + off, NLA_HDR);
	real = h.nla_len;
	switch (below(6)) {
	case 0: h.nla_len = below(4); break;		/* shorter than its header */
	case 1: h.nla_len = 4; break;			/* no payload */
	case 2: h.nla_len = real - range(1, 3); break;
	case 3: h.nla_len = real + range(1, 8); break;
	case 4: h.nla_len = o->len - off + range(1, 64); break; /* past the end */
	default: h.nla_len = pct(50) ? 0xffff : rnd();
	}
	memcpy(o->b + off, &h, NLA_HDR);
}

/* serialize @r into @b (at most @cap bytes) with the byte-level mutations of
 * @mcs; returns the length
 */
static size_t serialize(const struct request *r, const bool *mcs, uint8_t *b, size_t cap)
{
	static struct out o;
	struct nlmsghdr *nlh = (void *)b;
	struct genlmsghdr *g = (void *)(b + NLMSG_HDRLEN);
	unsigned int i = 0;

	o.b = b;
	o.len = NLMSG_HDRLEN + GENL_HDRLEN;
	o.cap = cap < MSG_MAX ? cap : MSG_MAX;
	o.n_hdrs = 0;
	nlh->nlmsg_type = r->nltype;
	nlh->nlmsg_flags = r->nlflags;
	nlh->nlmsg_seq = r->seq;
	nlh->nlmsg_pid = r->pid;
	g->cmd = r->cmd;
	g->version = r->version;
	g->reserved = r->reserved;
	while (i < r->n)
		i = ser_attr(r, i, &o);
	nlh->nlmsg_len = o.len;

	if (mcs[MC_NLALEN])
		for (unsigned int k = range(1, 2); k--;)
			lie_nla_len(&o);
	if (mcs[MC_BYTES] && o.len > NLMSG_HDRLEN) {
		for (unsigned int k = range(1, 8); k--;)
			o.b[range(pct(80) ? NLMSG_HDRLEN : 0, o.len - 1)] ^= 1 << below(8);
		if (nlh->nlmsg_len != o.len)	/* a flip may land there */
			nlh->nlmsg_len = o.len;
	}
	if (mcs[MC_TRUNC] && o.len > 1) {
		o.len = below(o.len);
		if (o.len >= NLMSG_HDRLEN && pct(60))
			nlh->nlmsg_len = o.len;
	}
	if (mcs[MC_GENLHDR] && o.len >= NLMSG_HDRLEN) {
		o.len = NLMSG_HDRLEN + below(GENL_HDRLEN);
		nlh->nlmsg_len = o.len;
	}
	if (mcs[MC_NLMSGLEN] && o.len >= NLMSG_HDRLEN)
		nlh->nlmsg_len = nlmsglen_lie(nlh->nlmsg_len);
	return o.len;
}

/* --- the guard: what may never reach the kernel ------------------------------ */

/*
 * Walk @b as netlink_rcv_skb() does, and per message the kernel would hand
 * to a family:
 *  - a devmem unbind: no id attribute names a protected binding;
 *  - another family's type (devlink, ethtool, ...): made a devmem message;
 *  - nlctrl: only getpolicy (getfamily of a random name loads modules);
 *  - the known kernel bugs (enum known) unless --known turns them on.
 */
/* the id attributes of an unbind as nla_parse() walks them: none may name a
 * protected binding (whatever its length, the kernel reads 4 bytes)
 */
static void scrub_ids(uint8_t *p, size_t len)
{
	long rem = len;

	while (rem >= NLA_HDR) {
		struct nlattr a;
		uint32_t v;

		memcpy(&a, p, NLA_HDR);
		if (a.nla_len < NLA_HDR || a.nla_len > rem)
			break;
		if ((a.nla_type & NLA_TYPE_MASK_) == DEVMEM_A_BINDING_ID && rem >= NLA_HDR + 4) {
			memcpy(&v, p + NLA_HDR, 4);
			while (is_protected(v)) {
				v ^= 0x40000000 | below(1 << 16);
				n_scrubbed++;
			}
			memcpy(p + NLA_HDR, &v, 4);
		}
		rem -= NLA_ALIGN(a.nla_len);
		p += NLA_ALIGN(a.nla_len);
	}
}

/* an ifindex no device has */
static uint32_t no_ifindex(void)
{
	uint32_t v = 0x7ffffff0;

	for (unsigned int i = 0; i < n_ifs; i++)
		if (ifs[i].ifindex >= v)
			v = ifs[i].ifindex + 1;
	return v;
}

static bool is_parentless(uint32_t ifindex)
{
	for (unsigned int i = 0; i < n_ifs; i++)
		if (ifs[i].ifindex == ifindex)
			return ifs[i].parentless;
	return false;
}

/* KB_PARENTLESS_BIND: no netdev bind-rx of a device without a parent */
static void avoid_parentless(uint8_t *p, size_t len)
{
	long rem = len;

	while (rem >= NLA_HDR) {
		struct nlattr a;
		uint32_t v;

		memcpy(&a, p, NLA_HDR);
		if (a.nla_len < NLA_HDR || a.nla_len > rem)
			break;
		if ((a.nla_type & NLA_TYPE_MASK_) == NETDEV_A_DMABUF_IFINDEX &&
		    rem >= NLA_HDR + 4) {
			memcpy(&v, p + NLA_HDR, 4);
			if (is_parentless(v)) {
				v = no_ifindex();
				memcpy(p + NLA_HDR, &v, 4);
				kb_avoided[KB_PARENTLESS_BIND]++;
			}
		}
		rem -= NLA_ALIGN(a.nla_len);
		p += NLA_ALIGN(a.nla_len);
	}
}

/* the replies of the batch cannot overflow the socket's receive buffer */
static bool reply_sure;

/* up to 32 requests, no dump among them, on a socket with a big buffer
 * (1M, drained before each send): their replies fit
 */
static bool replies_fit(const uint8_t *b, size_t len, bool small_rcvbuf)
{
	unsigned int n = 0;
	size_t off = 0;

	if (small_rcvbuf)
		return false;
	while (len - off >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const void *)(b + off);
		uint32_t l = nlh->nlmsg_len, msglen;

		if (l < NLMSG_HDRLEN || l > len - off)
			break;
		if (nlh->nlmsg_flags & (NLM_F_ROOT | NLM_F_MATCH) || ++n > 32)
			return false;
		msglen = NLMSG_ALIGN(l);
		if (msglen > len - off)
			msglen = len - off;
		off += msglen;
	}
	return true;
}

static void guard(uint8_t *b, size_t len)
{
	size_t off = 0;

	while (len - off >= NLMSG_HDRLEN) {
		struct nlmsghdr *nlh = (void *)(b + off);
		uint32_t l = nlh->nlmsg_len, msglen;

		if (l < NLMSG_HDRLEN || l > len - off)
			break;
		if (is_foreign(nlh->nlmsg_type))
			nlh->nlmsg_type = fams[F_DEVMEM].id;
		if (nlh->nlmsg_type == GENL_ID_CTRL && l >= NLMSG_HDRLEN + 1)
			b[off + NLMSG_HDRLEN] = CTRL_CMD_GETPOLICY;
		if (nlh->nlmsg_type == fams[F_DEVMEM].id && l >= NLMSG_HDRLEN + GENL_HDRLEN &&
		    b[off + NLMSG_HDRLEN] == DEVMEM_CMD_UNBIND)
			scrub_ids(b + off + NLMSG_HDRLEN + GENL_HDRLEN, l - NLMSG_HDRLEN - GENL_HDRLEN);
		if (!kb_on[KB_DMABUF_GET_LOST_REPLY] && !reply_sure &&
		    nlh->nlmsg_type == fams[F_DEVMEM].id && l >= NLMSG_HDRLEN + 1 &&
		    b[off + NLMSG_HDRLEN] == DEVMEM_CMD_DMABUF_GET) {
			b[off + NLMSG_HDRLEN] = DEVMEM_CMD_BINDING_GET;
			kb_avoided[KB_DMABUF_GET_LOST_REPLY]++;
		}
		if (!kb_on[KB_PARENTLESS_BIND] && nlh->nlmsg_type == fams[F_NETDEV].id &&
		    l >= NLMSG_HDRLEN + GENL_HDRLEN && b[off + NLMSG_HDRLEN] == NETDEV_CMD_BIND_RX)
			avoid_parentless(b + off + NLMSG_HDRLEN + GENL_HDRLEN,
					 l - NLMSG_HDRLEN - GENL_HDRLEN);
		msglen = NLMSG_ALIGN(l);
		if (msglen > len - off)
			msglen = len - off;
		off += msglen;
	}
}

/* the op key of each message the kernel will see in @b, for the errno
 * counts, noted by sequence number
 */
static uint16_t key_of(uint16_t type, uint8_t cmd)
{
	for (unsigned int f = 0; f < F_NR; f++)
		if (fams[f].id == type)
			return f * 256 + cmd;
	return K_OTHER;
}

static int first_key;

static void note_keys(const uint8_t *b, size_t len)
{
	size_t off = 0;

	first_key = -1;
	while (len - off >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const void *)(b + off);
		uint32_t l = nlh->nlmsg_len, msglen;
		uint16_t key;

		if (l < NLMSG_HDRLEN || l > len - off)
			break;
		key = l < NLMSG_HDRLEN + GENL_HDRLEN ? K_SHORT :
		      key_of(nlh->nlmsg_type, b[off + NLMSG_HDRLEN]);
		stats[key].sent++;
		n_messages++;
		seq_note(nlh->nlmsg_seq, key);
		if (first_key < 0)
			first_key = key;
		msglen = NLMSG_ALIGN(l);
		if (msglen > len - off)
			msglen = len - off;
		off += msglen;
	}
}

/* --- fuzz sockets ------------------------------------------------------------- */

struct fsock {
	int fd;
	bool small_rcvbuf;	/* replies get dropped */
	unsigned int binds;	/* socket-lifetime bindings it (may) hold */
	unsigned long msgs, reopen_at;
};

static struct fsock S = { .fd = -1 };
static uint8_t batch[BATCH_MAX];
static size_t batch_len;

static void sock_open(struct fsock *s)
{
	int v;

	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC);
	if (s->fd < 0)
		die("netlink socket: %s", strerror(errno));
	own_fd(s->fd);
	s->binds = 0;
	s->msgs = 0;
	s->reopen_at = pct(50) ? range(50, 500) : range(500, 5000);
	v = 1 << 20;
	s->small_rcvbuf = false;
	if (!mc_off[MC_SOCKOPT] && pct(5)) {
		s->small_rcvbuf = true;
		/* replies that do not fit: ENOBUFS, and dropped answers */
		v = range(0, 4096);
		mc_used[MC_SOCKOPT]++;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v));
	if (mc_off[MC_SOCKOPT])
		return;
	v = pct(80);
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &v, sizeof(v));
	v = pct(20);
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &v, sizeof(v));
	v = pct(30);
	setsockopt(s->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &v, sizeof(v));
	v = pct(10);
	setsockopt(s->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &v, sizeof(v));
	if (fams[F_DEVMEM].mgmt_grp && pct(20)) {
		v = fams[F_DEVMEM].mgmt_grp;
		setsockopt(s->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v, sizeof(v));
	}
	if (fams[F_NETDEV].mgmt_grp && pct(10)) {
		v = fams[F_NETDEV].mgmt_grp;
		setsockopt(s->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v, sizeof(v));
	}
}

static double t_close, t_ctl;

static void sock_close(struct fsock *s)
{
	double t0 = now();

	if (s->fd >= 0)
		close_fd(s->fd);
	t_close += now() - t0;
	s->fd = -1;
	n_reopens++;
}

static void note_seen(uint32_t id)
{
	for (unsigned int i = 0; i < n_seen; i++)
		if (seen_ids[i] == id)
			return;
	if (n_seen == ARRAY_SIZE(seen_ids)) {
		memmove(seen_ids, seen_ids + 1, sizeof(seen_ids) - sizeof(seen_ids[0]));
		n_seen--;
	}
	seen_ids[n_seen++] = id;
}

/* a binding the fuzzer made: at most MAX_MADE stay */
static void note_made(uint32_t id)
{
	note_seen(id);
	if (is_protected(id))
		return;
	if (n_made == MAX_MADE) {
		double t0 = now();
		int err = unbind_id(made_ids[0]);

		t_ctl += now() - t0;
		if (!err)
			n_unbound_cap++;
		memmove(made_ids, made_ids + 1, (n_made - 1) * sizeof(made_ids[0]));
		n_made--;
	}
	made_ids[n_made++] = id;
}

static void handle_reply(struct fsock *s, const struct nlmsghdr *nlh)
{
	int key = seq_key(nlh->nlmsg_seq);
	const uint8_t *p;
	size_t len;
	uint32_t v;

	n_replies++;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);
		int err;

		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
			return;
		err = -e->error;
		if (key < 0) {
			n_unmatched++;
			return;
		}
		if (err == 0)
			stats[key].ok++;
		else
			stats[key].err[err > 0 && err < MAX_ERRNO ? err : MAX_ERRNO]++;
		return;
	}
	if (nlh->nlmsg_type == NLMSG_DONE) {
		if (key >= 0)
			stats[key].ok++;
		return;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE || nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	if (key >= 0)
		stats[key].data++;
	else if (nlh->nlmsg_seq)
		n_unmatched++;
	p = (const uint8_t *)NLMSG_DATA(nlh) + GENL_HDRLEN;
	len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	if (nlh->nlmsg_type == fams[F_DEVMEM].id) {
		uint8_t cmd = ((const struct genlmsghdr *)NLMSG_DATA(nlh))->cmd;

		/* a notification (bind-ntf, unbind-ntf, free-ntf); not "seq 0":
		 * a request whose seq was fuzzed to 0 gets a reply with seq 0,
		 * and its fd or binding must still be accounted for
		 */
		if (cmd >= DEVMEM_CMD_BIND_NTF)
			return;
		if (cmd == DEVMEM_CMD_BIND && attr_u32(p, len, DEVMEM_A_BINDING_ID, &v)) {
			n_made_devmem++;
			s->binds++;
			note_made(v);
		} else if (cmd == DEVMEM_CMD_DMABUF_GET &&
			   attr_u32(p, len, DEVMEM_A_BINDING_FD, &v)) {
			n_dmabuf_got++;
			/* a new descriptor in this process: never one of ours */
			if ((int)v > 2 && ((int)v >= MAX_FDS || !my_fd[v]))
				close(v);
		} else if (attr_u32(p, len, DEVMEM_A_BINDING_ID, &v)) {
			note_seen(v);
		}
	} else if (nlh->nlmsg_type == fams[F_NETDEV].id && key >= 0 &&
		   (key % 256 == NETDEV_CMD_BIND_RX || key % 256 == FUZZ_NETDEV_CMD_BIND_TX) &&
		   attr_u32(p, len, NETDEV_A_DMABUF_ID, &v)) {
		n_made_netdev++;
		s->binds++;
		note_seen(v);
	}
}

/* read (and count) everything queued on @s, at most @max replies (each
 * read of a dump makes its next part); recvmmsg: one call for many
 */
#define RX_VLEN		16
#define RX_SLOT		(32 * 1024)

static void drain(struct fsock *s, unsigned int max)
{
	static uint8_t rx[RX_VLEN][RX_SLOT];
	static struct mmsghdr mm[RX_VLEN];
	static struct iovec iov[RX_VLEN];
	const struct nlmsghdr *nlh;
	const uint8_t *q;
	size_t left;
	int n;

	while (max) {
		unsigned int vlen = max < RX_VLEN ? max : RX_VLEN;

		for (unsigned int i = 0; i < vlen; i++) {
			iov[i].iov_base = rx[i];
			iov[i].iov_len = RX_SLOT;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(s->fd, mm, vlen, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n < 0) {
			if (errno == ENOBUFS) {
				n_overruns++;
				continue;
			}
			return;
		}
		for (int i = 0; i < n; i++) {
			q = rx[i];
			/* MSG_TRUNC: the length of the whole message, read or not */
			left = mm[i].msg_len > RX_SLOT ? RX_SLOT : mm[i].msg_len;
			while ((nlh = msg_next(&q, &left)))
				handle_reply(s, nlh);
		}
		max -= n;
		if ((unsigned int)n < vlen)
			return;
	}
}

/* --- the main loop ------------------------------------------------------------ */

static const struct opmodel *pick_op(void)
{
	unsigned int total = 0, w;

	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
		total += ops[i].present ? ops[i].weight : 0;
	w = below(total);
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
		if (!ops[i].present)
			continue;
		if (w < ops[i].weight)
			return &ops[i];
		w -= ops[i].weight;
	}
	return &ops[0];
}

static enum mclass pick_mc(void)
{
	unsigned int total = 0, w;

	for (unsigned int i = 0; i < MC_NR; i++)
		total += mc_off[i] ? 0 : mc_weight[i];
	if (!total)
		return MC_VALID;
	w = below(total);
	for (unsigned int i = 0; i < MC_NR; i++) {
		if (mc_off[i])
			continue;
		if (w < mc_weight[i])
			return i;
		w -= mc_weight[i];
	}
	return MC_VALID;
}

/* --dry-run: build and check requests, send nothing (tests the fuzzer) */
static bool dry_run;
static unsigned long n_dry_bad;

/* nla_len and nlmsg_len add up, nests included (for --dry-run) */
static bool attrs_well_formed(const uint8_t *p, size_t len, unsigned int depth)
{
	const struct nlattr *a;

	while ((a = attr_next(&p, &len)))
		if ((a->nla_type & NLA_F_NESTED) && depth < 300 &&
		    !attrs_well_formed((const uint8_t *)(a + 1), a->nla_len - NLA_HDR, depth + 1))
			return false;
	return len == 0;
}

static bool well_formed(const uint8_t *b, size_t len)
{
	const struct nlmsghdr *nlh = (const void *)b;

	return len >= NLMSG_HDRLEN + GENL_HDRLEN && nlh->nlmsg_len == len &&
	       attrs_well_formed(b + NLMSG_HDRLEN + GENL_HDRLEN, len - NLMSG_HDRLEN - GENL_HDRLEN, 0);
}

/* one message into the batch; only the @last of a batch may lie about
 * its length (the kernel stops reading a batch there)
 */
static void one_message(bool last)
{
	const struct opmodel *op = pick_op();
	bool dump = op->has_dump && (!op->has_do || pct(50));
	bool mcs[MC_NR] = { false };
	unsigned int n_mut = 0;
	size_t len;

	build_valid(&R, op, dump);
	if (mc_off[MC_VALID] || !pct(12)) {
		n_mut = pct(65) ? 1 : range(2, 4);
		for (unsigned int k = 0; k < n_mut; k++) {
			enum mclass mc = pick_mc();

			for (int tries = 0; !last && tries < 16 &&
			     (mc == MC_NLMSGLEN || mc == MC_TRUNC); tries++)
				mc = pick_mc();
			if (!last && (mc == MC_NLMSGLEN || mc == MC_TRUNC))
				mc = MC_VALID;
			mcs[mc] = true;
			mutate(&R, mc);
		}
	} else {
		mc_used[MC_VALID]++;
	}
	if (dry_run && !n_mut && BATCH_MAX - batch_len >= MSG_MAX) {
		/* a request without mutations is well-formed to the last byte */
		len = serialize(&R, mcs, batch + batch_len, BATCH_MAX - batch_len);
		if (!well_formed(batch + batch_len, len))
			n_dry_bad++;
	}
	if (BATCH_MAX - batch_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	len = serialize(&R, mcs, batch + batch_len, BATCH_MAX - batch_len);
	n_built++;
	/* the kernel finds the next message at NLMSG_ALIGN(nlmsg_len) */
	batch_len += NLMSG_ALIGN(len);
	if (batch_len > BATCH_MAX)
		batch_len = BATCH_MAX;
}

static volatile sig_atomic_t stop;
static const uint8_t *stuck_buf;
static size_t stuck_len;

static void on_alarm(int sig)
{
	static const char hex[] = "0123456789abcdef";
	char line[100];

	(void)sig;
	dprintf(2, "%s: a sendmsg of %zu bytes has not returned in %d s; the bytes:\n",
		prog, stuck_len, STUCK_S);
	for (size_t i = 0; i < stuck_len && i < 4096; i += 32) {
		size_t n = 0;

		for (size_t j = i; j < i + 32 && j < stuck_len; j++) {
			line[n++] = hex[stuck_buf[j] >> 4];
			line[n++] = hex[stuck_buf[j] & 15];
		}
		line[n++] = '\n';
		if (write(2, line, n) < 0)
			break;
	}
	_exit(3);
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}


static void send_batch(bool trace)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iovec iov[4];
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov };
	double t0;
	ssize_t n;

	reply_sure = replies_fit(batch, batch_len, S.small_rcvbuf);
	guard(batch, batch_len);
	note_keys(batch, batch_len);
	if (dry_run) {
		n_sends++;
		return;
	}
	if (trace) {
		printf("# send %lu:", n_sends);
		for (size_t i = 0; i < batch_len; i++)
			printf("%s%02x", i % 4 ? "" : " ", batch[i]);
		printf("\n");
		fflush(stdout);
	}
	iov[0].iov_base = batch;
	iov[0].iov_len = batch_len;
	mh.msg_iovlen = 1;
	if (!mc_off[MC_IOV] && batch_len > 8 && pct(5)) {
		/* the kernel gathers the message from several pieces */
		size_t a = below(batch_len), b = a + below(batch_len - a);

		iov[0].iov_len = a;
		iov[1].iov_base = batch + a;
		iov[1].iov_len = b - a;
		iov[2].iov_base = batch + b;
		iov[2].iov_len = batch_len - b;
		mh.msg_iovlen = 3;
		mc_used[MC_IOV]++;
	}
	stuck_buf = batch;
	stuck_len = batch_len;
	alarm(STUCK_S);
	t0 = now();
	n = sendmsg(S.fd, &mh, 0);
	if (first_key >= 0) {
		stats[first_key].sends++;
		stats[first_key].seconds += now() - t0;
	}
	alarm(0);
	n_sends++;
	if (n < 0)
		n_send_err[errno < MAX_ERRNO ? errno : MAX_ERRNO]++;
}


/* close what replies (dmabuf-get) put in this process and we missed */
static void sweep_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		if (fd < MAX_FDS && my_fd[fd])
			continue;
		/* a dmabuf-get whose reply was lost (a full receive buffer)
		 * still installed its fd: say what it was, the first times
		 */
		if (n_stray_fds++ < 5) {
			char path[64], target[256];
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			n = readlink(path, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = 0;
			printf("# stray fd %d in this process, no reply named it: %s\n", fd, target);
		}
		close(fd);
	}
	closedir(d);
}

/* a dump, cut off after at most one read by closing its socket */
static void dump_and_close(void)
{
	static const struct opmodel *dumps[8];
	unsigned int n = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(ops) && n < ARRAY_SIZE(dumps); i++)
		if (ops[i].present && ops[i].has_dump)
			dumps[n++] = &ops[i];
	if (!n)
		return;
	build_valid(&R, dumps[below(n)], true);
	batch_len = serialize(&R, (bool[MC_NR]){ false }, batch, BATCH_MAX);
	n_built++;
	mc_used[MC_DUMPCLOSE]++;
	send_batch(false);
	if (pct(50))
		drain(&S, 1);
	n_dumps_cut++;
	sock_close(&S);
	sock_open(&S);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s [ --seed S ] [ --count N ] [ --seconds S ] [ --disable CLASS,... ]\n"
		"       [ --known BUG,... ] [ --progress SECONDS ] [ --trace ] [ --dry-run ]\n"
		"Sends malformed and random requests to the devmem family and to netdev\n"
		"bind-rx/bind-tx until N messages (default 100000, 0: no limit) or S seconds\n"
		"(default: no limit) are done; prints the errno counts per op.\n"
		"Bindings that exist at the start are never unbound; bindings made by the\n"
		"fuzz are unbound at the end. Exit 1 if the binding list then differs.\n"
		"--known: send the requests that hit a known kernel bug: parentless-bind,\n"
		"dmabuf-get-lost-reply\n"
		"CLASS: ", prog);
	for (unsigned int i = 0; i < MC_NR; i++)
		fprintf(status ? stderr : stdout, "%s%s", mc_names[i], i + 1 < MC_NR ? " " : "\n");
	exit(status);
}

static void disable(const char *list)
{
	char *s = strdup(list), *tok, *save;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < MC_NR; i++)
			if (!strcmp(tok, mc_names[i]))
				break;
		if (i == MC_NR) {
			fprintf(stderr, "%s: unknown mutation class '%s'\n", prog, tok);
			usage(2);
		}
		mc_off[i] = true;
	}
	free(s);
}

static void known(const char *list)
{
	char *s = strdup(list), *tok, *save;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < KB_NR; i++)
			if (!strcmp(tok, kb_names[i]))
				break;
		if (i == KB_NR) {
			fprintf(stderr, "%s: unknown known bug '%s'\n", prog, tok);
			usage(2);
		}
		kb_on[i] = true;
	}
	free(s);
}

static void print_stats(double secs)
{
	char name[64];

	printf("# %lu messages (of %lu built: a lying length hides the rest of a batch) in %lu sendmsg calls, %.1f s, %.0f messages/s\n",
	       n_messages, n_built, n_sends, secs, secs > 0 ? n_messages / secs : 0.0);
	for (unsigned int k = 0; k < K_NR; k++) {
		const struct opstat *st = &stats[k];
		char line[1024];
		int n;

		if (!st->sent && !st->ok && !st->data)
			continue;
		n = snprintf(line, sizeof(line), "# op %s: sent %lu (%.1f s, %.0f us per sendmsg), ok %lu, data %lu",
			     key_name(k, name, sizeof(name)), st->sent, st->seconds,
			     st->sends ? st->seconds * 1e6 / st->sends : 0.0, st->ok, st->data);
		for (int e = 1; e <= MAX_ERRNO && n < (int)sizeof(line) - 32; e++)
			if (st->err[e])
				n += snprintf(line + n, sizeof(line) - n, ", %s %lu",
					      e == MAX_ERRNO ? "E-other" : errname(e), st->err[e]);
		printf("%s\n", line);
	}
	{
		char line[1024];
		int n = snprintf(line, sizeof(line), "# sendmsg errors:");
		bool any = false;

		for (int e = 1; e <= MAX_ERRNO; e++)
			if (n_send_err[e]) {
				n += snprintf(line + n, sizeof(line) - n, " %s %lu", errname(e),
					      n_send_err[e]);
				any = true;
			}
		printf("%s%s\n", line, any ? "" : " none");
	}
	printf("# replies %lu (unmatched %lu), receive overruns %lu, dumps cut off %lu, sockets reopened %lu (%.1f s in close), %.1f s in unbinds of made bindings\n",
	       n_replies, n_unmatched, n_overruns, n_dumps_cut, n_reopens, t_close, t_ctl);
	printf("# bindings made: %lu by devmem bind, %lu by netdev bind-rx/tx; %lu unbound along the way; dmabuf-get fds %lu; stray fds closed %lu; protected ids scrubbed from unbind %lu\n",
	       n_made_devmem, n_made_netdev, n_unbound_cap, n_dmabuf_got, n_stray_fds, n_scrubbed);
	{
		char line[1024];
		int n = snprintf(line, sizeof(line), "# mutations:");

		for (unsigned int i = 0; i < MC_NR; i++)
			n += snprintf(line + n, sizeof(line) - n, " %s %lu%s", mc_names[i],
				      mc_used[i], mc_off[i] ? " (off)" : "");
		printf("%s\n", line);
	}
	for (unsigned int i = 0; i < KB_NR; i++)
		printf("# known bug %s: %s, %lu requests rewritten to avoid it\n", kb_names[i],
		       kb_on[i] ? "ON (--known)" : "avoided", kb_avoided[i]);
}

static void print_ids(const char *what, const struct idlist *l)
{
	printf("# bindings %s: [", what);
	for (unsigned int i = 0; i < l->n; i++)
		printf("%s%u%s", i ? " " : "", l->ids[i], l->state[i] ? " draining" : "");
	printf("]\n");
}

/* bindings back to the @before list: unbind what the fuzz left, wait for
 * draining ones to be freed; true when the lists match
 */
static bool restore(const struct idlist *before)
{
	struct idlist now_l;
	unsigned int left = 0;
	double end = now() + 30;
	int err;

	err = list_bindings(&now_l);
	if (err) {
		printf("# binding dump after the fuzz: %s\n", strerror(-err));
		return false;
	}
	for (unsigned int i = 0; i < now_l.n; i++)
		if (!is_protected(now_l.ids[i]) && now_l.state[i] == DEVMEM_STATE_ACTIVE) {
			err = unbind_id(now_l.ids[i]);
			if (err && err != -ENOENT && err != -EALREADY)
				printf("# unbind %u: %s\n", now_l.ids[i], strerror(-err));
			left++;
		}
	printf("# bindings the fuzz left behind: %u (unbound now)\n", left);
	for (;;) {
		bool same;

		err = list_bindings(&now_l);
		if (err) {
			printf("# binding dump: %s\n", strerror(-err));
			return false;
		}
		same = now_l.n == before->n;
		for (unsigned int i = 0; same && i < now_l.n; i++)
			same = now_l.ids[i] == before->ids[i] && now_l.state[i] == before->state[i];
		if (same || now() > end) {
			print_ids("after", &now_l);
			if (!same)
				printf("# the bindings differ from before the fuzz (30 s after it)\n");
			return same;
		}
		usleep(100000);
	}
}

static int dry_main(unsigned long count, bool trace)
{
	double start = now(), t;

	fams[F_DEVMEM].id = 0x20;
	fams[F_NETDEV].id = 0x21;
	fams[F_NLCTRL].id = GENL_ID_CTRL;
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
		ops[i].present = true;
	fams[F_DEVMEM].max_cmd = 5;
	fams[F_NETDEV].max_cmd = 15;
	protected_ids[n_protected++] = 1;
	ifs[n_ifs++] = (struct netif){ 1, 1, true };
	ifs[n_ifs++] = (struct netif){ 2, 4, false };
	max_queues = 4;
	dmabuf_fds[n_dmabuf_fds++] = 3;
	other_fds[n_other_fds++] = 4;
	while (n_messages < count) {
		batch_len = 0;
		if (pct(12)) {
			unsigned int n = pct(85) ? range(2, 8) : range(9, 64);

			while (n-- && batch_len < BATCH_MAX - MSG_MAX / 4)
				one_message(!n);
		} else {
			one_message(true);
		}
		if (batch_len)
			send_batch(trace);
	}
	t = now() - start;
	print_stats(t);
	printf("# dry run: %lu valid requests not well-formed\n", n_dry_bad);
	return n_dry_bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 't' },
		{ "disable", required_argument, NULL, 'd' },
		{ "progress", required_argument, NULL, 'p' },
		{ "trace", no_argument, NULL, 'T' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "known", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	unsigned long count = 100000;
	double seconds = 0, progress = 10, start, last, t;
	uint64_t seed;
	struct idlist before;
	bool trace = false, ok;
	int c, err;

	seed = (uint64_t)time(NULL) * 1000003 ^ getpid();
	seed %= 1000000000;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'c': count = strtoul(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'd': disable(optarg); break;
		case 'p': progress = strtod(optarg, NULL); break;
		case 'T': trace = true; break;
		case 'D': dry_run = true; break;
		case 'K': known(optarg); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (!count)
		count = ULONG_MAX;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	signal(SIGINT, on_term);
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	rng_state = seed;
	printf("# devmem_fuzz: seed %" PRIu64 " (--seed %" PRIu64 " reproduces this run)\n",
	       seed, seed);

	own_fd(0);
	own_fd(1);
	own_fd(2);
	if (dry_run)
		return dry_main(count, trace);
	ctl_fd = nl_open();
	err = resolve_family(DEVMEM_FAMILY_NAME, &fams[F_DEVMEM]);
	if (err)
		die("no devmem family: %s", strerror(-err));
	err = resolve_family(NETDEV_FAMILY_NAME, &fams[F_NETDEV]);
	if (err)
		die("no netdev family: %s", strerror(-err));
	err = resolve_family("nlctrl", &fams[F_NLCTRL]);
	if (err)
		die("no nlctrl family: %s", strerror(-err));
	list_families();
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
		struct opmodel *o = &ops[i];
		uint8_t f = fams[o->fam].ops[o->cmd];

		o->present = f & 0x80;
		if (!o->present)
			printf("# %s %s (cmd %u): not in this kernel, not fuzzed\n",
			       fam_names[o->fam], o->name, o->cmd);
	}
	printf("# devmem family %#x (mgmt group %u, cmds up to %u), netdev %#x (cmds up to %u); %u other families left alone\n",
	       fams[F_DEVMEM].id, fams[F_DEVMEM].mgmt_grp, fams[F_DEVMEM].max_cmd,
	       fams[F_NETDEV].id, fams[F_NETDEV].max_cmd, n_foreign);

	find_ifs();
	make_fds();
	err = list_bindings(&before);
	if (err)
		die("binding dump: %s", strerror(-err));
	for (unsigned int i = 0; i < before.n && n_protected < MAX_PROTECTED; i++) {
		protected_ids[n_protected++] = before.ids[i];
		note_seen(before.ids[i]);
	}
	print_ids("before (never unbound by the fuzz)", &before);
	{
		char line[512];
		int n = snprintf(line, sizeof(line), "# devices:");

		for (unsigned int i = 0; i < n_ifs; i++)
			n += snprintf(line + n, sizeof(line) - n, " ifindex %u (%u rx queues%s)",
				      ifs[i].ifindex, ifs[i].rx_queues,
				      ifs[i].parentless ? ", no parent device" : "");
		printf("%s; dmabuf fds %u, other fds %u\n", line, n_dmabuf_fds, n_other_fds);
	}

	sock_open(&S);
	start = last = now();
	while (!stop && n_messages < count) {
		t = now();
		if (seconds && t - start >= seconds)
			break;
		if (progress && t - last >= progress) {
			printf("# progress: %lu messages, %.0f s, %.0f/s\n", n_messages,
			       t - start, n_messages / (t - start));
			last = t;
		}
		if (!mc_off[MC_DUMPCLOSE] && one_in(150)) {
			dump_and_close();
			continue;
		}
		batch_len = 0;
		if (!mc_off[MC_BATCH] && pct(35)) {
			unsigned int n = pct(85) ? range(2, 16) : range(17, 64);

			mc_used[MC_BATCH]++;
			while (n-- && batch_len < BATCH_MAX - MSG_MAX / 4)
				one_message(!n);
		} else {
			one_message(true);
		}
		if (!batch_len)
			continue;
		send_batch(trace);
		drain(&S, 1024);
		S.msgs++;
		if (S.binds >= MAX_SOCK_BINDS || S.msgs >= S.reopen_at) {
			/* its socket-lifetime bindings go with it */
			sock_close(&S);
			sock_open(&S);
		}
		if (n_sends % 512 == 0)
			sweep_fds();
	}
	t = now() - start;
	drain(&S, 1024);
	sock_close(&S);
	sweep_fds();
	print_stats(t);
	ok = restore(&before);
	if (n_stray_fds && !kb_on[KB_DMABUF_GET_LOST_REPLY]) {
		printf("# %lu stray fds: a reply that could not be lost was\n", n_stray_fds);
		ok = false;
	}
	printf("# result: %s; %lu messages, %.1f s, %.0f/s, seed %" PRIu64 "\n",
	       ok ? "bindings as before" : "FAILED (see above)",
	       n_messages, t, t > 0 ? n_messages / t : 0.0, seed);
	return ok ? 0 : 1;
}
