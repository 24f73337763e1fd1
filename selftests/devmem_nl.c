// SPDX-License-Identifier: GPL-2.0
/*
 * devmem_nl - a small client of the devmem generic netlink family, for the
 * selftests: every op of Documentation/netlink/specs/devmem.yaml, the mgmt
 * multicast group, and a fuzzer that checks the family refuses malformed
 * requests.
 *
 * Errors print the kernel's extack message as
 *   devmem_nl: CMD: ERRNAME: extack text
 * so that a test can match the errno and the text of a refusal exactly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/devmem.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/udmabuf.h>

#include <json-c/json.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "libdevmem.h"

#ifdef DEVMEM_NL_TEST_FAMILY
/* plumbing tests against another family on a kernel without devmem */
#undef DEVMEM_FAMILY_NAME
#define DEVMEM_FAMILY_NAME DEVMEM_NL_TEST_FAMILY
#endif

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define MAX_QUEUES		4096
/* how long to wait for the kernel's answer to one request (TCG is slow) */
#define REPLY_TIMEOUT_S		30
/* a fuzz request is fine for the kernel to answer slowly, not never */
#define FUZZ_TIMEOUT_S		10

static const char *prog = "devmem_nl";
static const char *cmd_name = "";
static bool json;

static const char usage_text[] =
"Usage: devmem_nl [ -j ] [ -n NETNS ] COMMAND [ ARGS ]\n"
"\n"
"  bind --ifindex N { --queues LIST | --queue Q ... }\n"
"       { --udmabuf SIZE | --dmabuf-fd N | --pid P --fd N | --fd-path PATH | --bad-fd }\n"
"       [ --direction rx|tx|NUM ] [ --lifetime persistent|socket|NUM ]\n"
"       [ --hold SECONDS ] [ --omit ifindex|fd|queues ]...\n"
"  unbind ID\n"
"  get ID\n"
"  dump [ --ifindex N ]\n"
"  stats ID\n"
"  stats-dump [ --ifindex N ]\n"
"  dmabuf-get ID [ --check-size BYTES ]\n"
"  monitor [ --count N ] [ --timeout SECONDS ]\n"
"  fuzz [ --count N ] [ --seed S ] [ --keep-id ID ]\n"
"  udmabuf SIZE [ --fd N ] -- COMMAND [ ARG ]...\n"
"       run COMMAND with a new udmabuf open as fd N (default 3)\n"
"\n"
"  -j        JSON output (keys are the spec's attribute names)\n"
"  -n NETNS  run in network namespace NETNS (a name in /run/netns or a path)\n"
"\n"
"LIST is queue ids and ranges, e.g. 2,3 or 2-3 (repeats are sent as given).\n"
"SIZE takes a K, M or G suffix. Exit status: 0 ok, 1 error, 2 usage error.\n";

/* --- messages ------------------------------------------------------------ */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", prog, cmd_name, *cmd_name ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", prog, cmd_name, *cmd_name ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s -h' for more information.\n", prog);
	exit(2);
}

static void __attribute__((format(printf, 1, 2)))
note(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", prog, cmd_name, *cmd_name ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *errno_name(int err)
{
	static char buf[32];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* --- argument parsing ----------------------------------------------------- */

static unsigned long long parse_num(const char *what, const char *arg,
				    unsigned long long max)
{
	unsigned long long val;
	char *end;

	errno = 0;
	if (!arg || !*arg || *arg == '-')
		usage_error("%s: invalid number '%s'", what, arg ?: "");
	val = strtoull(arg, &end, 0);
	if (errno || *end || val > max)
		usage_error("%s: invalid number '%s' (0..%llu)", what, arg, max);
	return val;
}

static uint64_t parse_size(const char *what, const char *arg)
{
	unsigned long long val, mult = 1;
	char *end;

	errno = 0;
	if (!arg || !*arg || *arg == '-')
		usage_error("%s: invalid size '%s'", what, arg ?: "");
	val = strtoull(arg, &end, 10);
	if (errno || end == arg)
		usage_error("%s: invalid size '%s'", what, arg);
	switch (*end) {
	case 'k': case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	}
	if (*end || val > UINT64_MAX / mult)
		usage_error("%s: invalid size '%s'", what, arg);
	return val * mult;
}

/* NAME or a number, so that tests can send values the spec does not have */
static uint32_t parse_enum(const char *what, const char *arg,
			   const char * const *names, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (arg && !strcmp(arg, names[i]))
			return i;
	if (arg && *arg >= '0' && *arg <= '9')
		return parse_num(what, arg, UINT32_MAX);
	usage_error("%s: unknown value '%s'", what, arg ?: "");
}

/* the value of option argv[*i], or a usage error */
static const char *optval(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		usage_error("%s needs an argument", argv[*i]);
	return argv[++*i];
}

/* --- names of the spec's enums --------------------------------------------- */

static const char * const direction_names[] = { "rx", "tx" };
static const char * const lifetime_names[] = { "persistent", "socket" };
static const char * const state_names[] = { "active", "draining" };

static const char * const ntf_names[] = {
	[DEVMEM_CMD_BIND_NTF]	= "bind-ntf",
	[DEVMEM_CMD_UNBIND_NTF]	= "unbind-ntf",
	[DEVMEM_CMD_FREE_NTF]	= "free-ntf",
};

static const char * const stats_names[] = {
	[DEVMEM_A_STATS_ID]		= "id",
	[DEVMEM_A_STATS_IFINDEX]	= "ifindex",
	[DEVMEM_A_STATS_NIOVS_TOTAL]	= "niovs-total",
	[DEVMEM_A_STATS_NIOVS_FREE]	= "niovs-free",
	[DEVMEM_A_STATS_NIOVS_USER]	= "niovs-user",
	[DEVMEM_A_STATS_RX_BYTES]	= "rx-bytes",
	[DEVMEM_A_STATS_RX_FRAGS]	= "rx-frags",
	[DEVMEM_A_STATS_RX_LINEAR_BYTES] = "rx-linear-bytes",
	[DEVMEM_A_STATS_TOKENS_OUT]	= "tokens-out",
	[DEVMEM_A_STATS_TOKENS_RETURNED] = "tokens-returned",
	[DEVMEM_A_STATS_TOKENS_RECLAIMED] = "tokens-reclaimed",
	[DEVMEM_A_STATS_ALLOC_FAIL]	= "alloc-fail",
	[DEVMEM_A_STATS_EFAULT]		= "efault",
	[DEVMEM_A_STATS_TX_BYTES]	= "tx-bytes",
	[DEVMEM_A_STATS_TX_FRAGS]	= "tx-frags",
};

/* --- output ---------------------------------------------------------------- */

/* "uint" attributes are 4 or 8 bytes, whichever the value needs */
static uint64_t get_uint(const struct nlattr *a)
{
	if (nla_len(a) == 8)
		return nla_get_u64((struct nlattr *)a);
	if (nla_len(a) == 4)
		return nla_get_u32((struct nlattr *)a);
	return 0;
}

static struct json_object *enum_value(uint32_t v, const char * const *names,
				      size_t nr)
{
	if (v < nr)
		return json_object_new_string(names[v]);
	return json_object_new_int64(v);
}

/*
 * One object per binding (or stats entry), printed either as a JSON
 * object or as one line of "key value" words in the same order.
 */
static void print_text(struct json_object *obj)
{
	bool first = true;

	json_object_object_foreach(obj, key, val) {
		printf("%s%s ", first ? "" : " ", key);
		first = false;
		if (json_object_is_type(val, json_type_array)) {
			size_t i, n = json_object_array_length(val);

			for (i = 0; i < n; i++)
				printf("%s%s", i ? "," : "",
				       json_object_get_string(json_object_array_get_idx(val, i)));
			if (!n)
				printf("none");
		} else {
			printf("%s", json_object_get_string(val));
		}
	}
	printf("\n");
}

static void print_obj(struct json_object *obj)
{
	if (json)
		printf("%s\n", json_object_to_json_string_ext(obj,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(obj);
}

/* a list: a JSON array with -j, one line per object without */
static void print_list(struct json_object *arr)
{
	size_t i, n = json_object_array_length(arr);

	if (json) {
		print_obj(arr);
		return;
	}
	for (i = 0; i < n; i++)
		print_text(json_object_array_get_idx(arr, i));
}

static struct json_object *binding_to_json(struct nlattr *attrs, int len)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *queues = NULL;
	struct nlattr *a;
	int rem;

	/* attributes keep the kernel's order; queues collect into one array */
	nla_for_each_attr(a, attrs, len, rem) {
		switch (nla_type(a)) {
		case DEVMEM_A_BINDING_ID:
			json_object_object_add(obj, "id", json_object_new_int64(nla_get_u32(a)));
			break;
		case DEVMEM_A_BINDING_IFINDEX:
			json_object_object_add(obj, "ifindex", json_object_new_int64(nla_get_u32(a)));
			break;
		case DEVMEM_A_BINDING_FD:
			json_object_object_add(obj, "fd", json_object_new_int64(nla_get_u32(a)));
			break;
		case DEVMEM_A_BINDING_QUEUES:
			if (!queues) {
				queues = json_object_new_array();
				json_object_object_add(obj, "queues", queues);
			}
			json_object_array_add(queues, json_object_new_int64(nla_get_u32(a)));
			break;
		case DEVMEM_A_BINDING_DIRECTION:
			json_object_object_add(obj, "direction",
					       enum_value(nla_get_u32(a), direction_names,
							  ARRAY_SIZE(direction_names)));
			break;
		case DEVMEM_A_BINDING_LIFETIME:
			json_object_object_add(obj, "lifetime",
					       enum_value(nla_get_u32(a), lifetime_names,
							  ARRAY_SIZE(lifetime_names)));
			break;
		case DEVMEM_A_BINDING_DMABUF_SIZE:
			json_object_object_add(obj, "dmabuf-size", json_object_new_uint64(get_uint(a)));
			break;
		case DEVMEM_A_BINDING_OWNER_PID:
			json_object_object_add(obj, "owner-pid", json_object_new_int64(nla_get_u32(a)));
			break;
		case DEVMEM_A_BINDING_OWNER_COMM:
			json_object_object_add(obj, "owner-comm",
					       json_object_new_string_len(nla_data(a),
						       strnlen(nla_data(a), nla_len(a))));
			break;
		case DEVMEM_A_BINDING_STATE:
			json_object_object_add(obj, "state",
					       enum_value(nla_get_u32(a), state_names,
							  ARRAY_SIZE(state_names)));
			break;
		case DEVMEM_A_BINDING_CREATE_TIME:
			json_object_object_add(obj, "create-time", json_object_new_uint64(get_uint(a)));
			break;
		}
	}
	return obj;
}

static struct json_object *stats_to_json(struct nlattr *attrs, int len)
{
	struct json_object *obj = json_object_new_object();
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, attrs, len, rem) {
		int t = nla_type(a);

		if (t <= 0 || t >= (int)ARRAY_SIZE(stats_names) || !stats_names[t])
			continue;
		if (t == DEVMEM_A_STATS_ID || t == DEVMEM_A_STATS_IFINDEX)
			json_object_object_add(obj, stats_names[t],
					       json_object_new_int64(nla_get_u32(a)));
		else
			json_object_object_add(obj, stats_names[t],
					       json_object_new_uint64(get_uint(a)));
	}
	return obj;
}

/* --- netlink ------------------------------------------------------------- */

/* libdevmem's raw requests: the test builds them, the library answers */
struct conn {
	struct devmem_nl *nl;
	struct nl_sock *sk;
	int family;
};

/* The outcome of one request. */
struct reply {
	bool done;
	int err;		/* errno from the kernel, 0 for success */
	bool acked;		/* an ACK (error 0) or NLMSG_DONE arrived */
	char extack[512];
	int miss_type;		/* missing attribute, -1 if none */
	unsigned int nr_data;	/* data messages that answered the request */
	unsigned int nr_stale;	/* messages of other sequence numbers */
	/* called for each data message of this request */
	void (*data)(struct nlmsghdr *nlh, void *arg);
	void *arg;
};

static void set_rcvtimeo(struct nl_sock *sk, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
}

static void conn_open(struct conn *c)
{
	struct devmem_err e;
	int ret = devmem_genl_open(&c->nl, DEVMEM_FAMILY_NAME, &e);

	if (ret == -ENOENT)
		die("generic netlink family \"%s\" not found: %s",
		    DEVMEM_FAMILY_NAME, e.msg);
	if (ret)
		die("generic netlink: %s", e.msg);
	c->sk = devmem_nl_sock(c->nl);
	/* room for the fuzzer's largest requests (libnl's default is 32K) */
	nl_socket_set_buffer_size(c->sk, 1 << 20, 1 << 20);
	nl_socket_enable_msg_peek(c->sk);
	set_rcvtimeo(c->sk, REPLY_TIMEOUT_S);
	c->family = devmem_genl_family(c->nl);
}

static void conn_close(struct conn *c)
{
	devmem_nl_close(c->nl);
	c->nl = NULL;
	c->sk = NULL;
}

static struct nl_msg *msg_new(struct conn *c, int flags, uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc_size(1 << 20);

	if (!m || !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0,
			       flags, cmd, DEVMEM_FAMILY_VERSION))
		die("cannot build the request");
	return m;
}

static void reply_data(struct nlmsghdr *nlh, void *arg)
{
	struct reply *r = arg;

	if (r->data)
		r->data(nlh, r->arg);
}

/*
 * Send a request and read until its ACK, error or end of dump.  Returns
 * 0 when the kernel answered (r->err says how), or -ETIMEDOUT/-EIO when
 * it did not.
 */
static int transact(struct conn *c, struct nl_msg *m, struct reply *r)
{
	struct devmem_answer a = { .data = reply_data, .arg = r };
	struct devmem_err e;
	int ret = devmem_genl_transact(c->nl, m, &a, &e);

	r->done = a.answered;
	r->acked = a.acked;
	r->nr_data = a.nr_data;
	r->nr_stale = a.nr_stale;
	if (!a.answered)
		return ret;
	r->err = e.err;
	snprintf(r->extack, sizeof(r->extack), "%s", e.msg);
	r->miss_type = e.missing_attr ?: -1;
	return 0;
}

/* The error line of a refused request; exits 1. */
static void __attribute__((noreturn)) die_refused(const struct reply *r)
{
	if (r->extack[0])
		die("%s: %s", errno_name(r->err), r->extack);
	if (r->miss_type >= 0)
		die("%s: missing attribute %d", errno_name(r->err),
		    r->miss_type);
	die("%s: %s", errno_name(r->err), strerror(r->err));
}

/* transact, and exit with the kernel's refusal or a transport error */
static void request(struct conn *c, struct nl_msg *m, struct reply *r)
{
	int ret = transact(c, m, r);

	nlmsg_free(m);
	if (ret < 0)
		die("%s", ret == -ETIMEDOUT ?
		    "no answer from the kernel" : strerror(-ret));
	if (r->err)
		die_refused(r);
}

/* --- dmabufs --------------------------------------------------------------- */

static int udmabuf_create(uint64_t size)
{
	int fd = devmem_udmabuf_create(size);

	if (fd < 0)
		die("udmabuf of %" PRIu64 " bytes: %s", size, strerror(-fd));
	return fd;
}

/* A duplicate of another process's fd (needs ptrace rights over it). */
static int fd_of_pid(pid_t pid, int fd)
{
	int pidfd, ret;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die("pidfd_open(%d): %s", pid, strerror(errno));
	ret = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (ret < 0)
		die("pidfd_getfd(pid %d, fd %d): %s", pid, fd, strerror(errno));
	close(pidfd);
	return ret;
}

/* --- bind ------------------------------------------------------------------ */

enum fd_source { FD_NONE, FD_UDMABUF, FD_INHERITED, FD_PID, FD_PATH, FD_BAD };

#define BAD_FD	999

static void id_data(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[DEVMEM_A_BINDING_MAX + 1];
	int64_t *id = arg;

	if (!genlmsg_parse(nlh, 0, tb, DEVMEM_A_BINDING_MAX, NULL) &&
	    tb[DEVMEM_A_BINDING_ID])
		*id = nla_get_u32(tb[DEVMEM_A_BINDING_ID]);
}

static void add_queues(unsigned int *queues, unsigned int *nr,
		       const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;

	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		unsigned long long first, last;

		if (dash)
			*dash = '\0';
		first = parse_num("--queues", tok, UINT32_MAX);
		last = dash ? parse_num("--queues", dash + 1, UINT32_MAX) : first;
		if (last < first)
			usage_error("--queues: bad range '%s-%s'", tok, dash + 1);
		for (; first <= last; first++) {
			if (*nr == MAX_QUEUES)
				usage_error("--queues: more than %d queues", MAX_QUEUES);
			queues[(*nr)++] = first;
		}
	}
	free(copy);
}

static int cmd_bind(struct conn *c, int argc, char **argv)
{
	static unsigned int queues[MAX_QUEUES];
	unsigned int nr_queues = 0, i;
	bool omit_ifindex = false, omit_fd = false, omit_queues = false;
	bool have_dir = false, have_life = false;
	uint32_t ifindex = 0, direction = 0, lifetime = 0;
	enum fd_source src = FD_NONE;
	const char *path = NULL;
	uint64_t udmabuf_size = 0;
	long hold = -1;
	int src_fd = -1, fd = -1, a;
	pid_t pid = 0;
	struct reply r = { 0 };
	int64_t id = -1;
	struct nl_msg *m;

	for (a = 1; a < argc; a++) {
		const char *o = argv[a];

		if (!strcmp(o, "--ifindex")) {
			ifindex = parse_num(o, optval(argc, argv, &a), UINT32_MAX);
		} else if (!strcmp(o, "--queues")) {
			add_queues(queues, &nr_queues, optval(argc, argv, &a));
		} else if (!strcmp(o, "--queue")) {
			if (nr_queues == MAX_QUEUES)
				usage_error("--queue: more than %d queues", MAX_QUEUES);
			queues[nr_queues++] = parse_num(o, optval(argc, argv, &a),
							UINT32_MAX);
		} else if (!strcmp(o, "--udmabuf")) {
			src = FD_UDMABUF;
			udmabuf_size = parse_size(o, optval(argc, argv, &a));
		} else if (!strcmp(o, "--dmabuf-fd")) {
			src = src == FD_PID ? FD_PID : FD_INHERITED;
			src_fd = parse_num(o, optval(argc, argv, &a), INT_MAX);
		} else if (!strcmp(o, "--fd")) {
			src_fd = parse_num(o, optval(argc, argv, &a), INT_MAX);
		} else if (!strcmp(o, "--pid")) {
			src = FD_PID;
			pid = parse_num(o, optval(argc, argv, &a), INT_MAX);
		} else if (!strcmp(o, "--fd-path")) {
			src = FD_PATH;
			path = optval(argc, argv, &a);
		} else if (!strcmp(o, "--bad-fd")) {
			src = FD_BAD;
		} else if (!strcmp(o, "--direction")) {
			direction = parse_enum(o, optval(argc, argv, &a), direction_names,
					       ARRAY_SIZE(direction_names));
			have_dir = true;
		} else if (!strcmp(o, "--lifetime")) {
			lifetime = parse_enum(o, optval(argc, argv, &a), lifetime_names,
					      ARRAY_SIZE(lifetime_names));
			have_life = true;
		} else if (!strcmp(o, "--hold")) {
			hold = parse_num(o, optval(argc, argv, &a), INT_MAX);
		} else if (!strcmp(o, "--omit")) {
			const char *w = optval(argc, argv, &a);

			if (!strcmp(w, "ifindex"))
				omit_ifindex = true;
			else if (!strcmp(w, "fd"))
				omit_fd = true;
			else if (!strcmp(w, "queues"))
				omit_queues = true;
			else
				usage_error("--omit: one of ifindex, fd, queues, not '%s'", w);
		} else {
			usage_error("unknown argument '%s'", o);
		}
	}
	if (!ifindex && !omit_ifindex)
		usage_error("--ifindex N is required (or --omit ifindex)");
	if (!nr_queues && !omit_queues)
		usage_error("--queues LIST is required (or --omit queues)");
	if (src == FD_NONE && !omit_fd)
		usage_error("a dmabuf is required: --udmabuf SIZE, --dmabuf-fd N, --pid P --fd N, --fd-path PATH or --bad-fd (or --omit fd)");
	if ((src == FD_PID || src == FD_INHERITED) && src_fd < 0)
		usage_error("--pid needs --fd N");
	if (src_fd >= 0 && src != FD_PID && src != FD_INHERITED)
		usage_error("--fd needs --pid P");

	switch (src) {
	case FD_UDMABUF:
		if (!udmabuf_size || udmabuf_size % sysconf(_SC_PAGESIZE))
			usage_error("--udmabuf: size must be a non-zero multiple of the page size");
		fd = udmabuf_create(udmabuf_size);
		break;
	case FD_INHERITED:
		if (fcntl(src_fd, F_GETFD) < 0)
			die("--dmabuf-fd %d: %s", src_fd, strerror(errno));
		fd = src_fd;
		break;
	case FD_PID:
		fd = fd_of_pid(pid, src_fd);
		break;
	case FD_PATH:
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("--fd-path %s: %s", path, strerror(errno));
		break;
	case FD_BAD:
		fd = BAD_FD;
		if (fcntl(fd, F_GETFD) >= 0)
			die("--bad-fd: fd %d is open in this process", fd);
		break;
	case FD_NONE:
		break;
	}

	conn_open(c);
	m = msg_new(c, 0, DEVMEM_CMD_BIND);
	if (!omit_ifindex && nla_put_u32(m, DEVMEM_A_BINDING_IFINDEX, ifindex))
		die("cannot build the request");
	if (!omit_fd && nla_put_u32(m, DEVMEM_A_BINDING_FD, fd))
		die("cannot build the request");
	for (i = 0; !omit_queues && i < nr_queues; i++)
		if (nla_put_u32(m, DEVMEM_A_BINDING_QUEUES, queues[i]))
			die("cannot build the request");
	if (have_dir && nla_put_u32(m, DEVMEM_A_BINDING_DIRECTION, direction))
		die("cannot build the request");
	if (have_life && nla_put_u32(m, DEVMEM_A_BINDING_LIFETIME, lifetime))
		die("cannot build the request");

	r.data = id_data;
	r.arg = &id;
	request(c, m, &r);
	if (id < 0)
		die("the kernel's reply carries no binding id");
	/* the binding holds its own reference to the dmabuf */
	if (src == FD_UDMABUF || src == FD_PID || src == FD_PATH)
		close(fd);

	if (json)
		printf("{\"id\":%" PRId64 "}\n", id);
	else
		printf("%" PRId64 "\n", id);
	fflush(stdout);

	if (hold > 0) {
		/* a lifetime socket binding lives as long as this socket */
		struct timespec ts = { .tv_sec = hold };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return 0;
}

/* --- unbind, get, dump, stats -------------------------------------------- */

static uint32_t parse_id(int argc, char **argv, int *a)
{
	if (*a >= argc)
		usage_error("ID is required");
	return parse_num("ID", argv[(*a)++], UINT32_MAX);
}

static void no_more_args(int argc, char **argv, int a)
{
	if (a < argc)
		usage_error("unknown argument '%s'", argv[a]);
}

static int cmd_unbind(struct conn *c, int argc, char **argv)
{
	struct reply r = { 0 };
	struct nl_msg *m;
	int a = 1;
	uint32_t id = parse_id(argc, argv, &a);

	no_more_args(argc, argv, a);
	conn_open(c);
	m = msg_new(c, 0, DEVMEM_CMD_UNBIND);
	if (nla_put_u32(m, DEVMEM_A_BINDING_ID, id))
		die("cannot build the request");
	request(c, m, &r);
	return 0;
}

static void collect_binding(struct nlmsghdr *nlh, void *arg)
{
	json_object_array_add(arg, binding_to_json(genlmsg_attrdata(nlmsg_data(nlh), 0),
						   genlmsg_attrlen(nlmsg_data(nlh), 0)));
}

static void collect_stats(struct nlmsghdr *nlh, void *arg)
{
	json_object_array_add(arg, stats_to_json(genlmsg_attrdata(nlmsg_data(nlh), 0),
						 genlmsg_attrlen(nlmsg_data(nlh), 0)));
}

/* get ID / stats ID: one object */
static int cmd_get_one(struct conn *c, int argc, char **argv, uint8_t cmd,
		       void (*collect)(struct nlmsghdr *, void *))
{
	struct json_object *arr = json_object_new_array();
	struct reply r = { .data = collect, .arg = arr };
	struct nl_msg *m;
	int a = 1;
	uint32_t id = parse_id(argc, argv, &a);

	no_more_args(argc, argv, a);
	conn_open(c);
	m = msg_new(c, 0, cmd);
	if (nla_put_u32(m, DEVMEM_A_BINDING_ID, id))
		die("cannot build the request");
	request(c, m, &r);
	if (json_object_array_length(arr) != 1)
		die("expected one reply, got %zu", json_object_array_length(arr));
	print_obj(json_object_array_get_idx(arr, 0));
	json_object_put(arr);
	return 0;
}

/* dump / stats-dump [--ifindex N]: a list */
static int cmd_dump(struct conn *c, int argc, char **argv, uint8_t cmd,
		    void (*collect)(struct nlmsghdr *, void *))
{
	struct json_object *arr = json_object_new_array();
	struct reply r = { .data = collect, .arg = arr };
	uint32_t ifindex = 0;
	struct nl_msg *m;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--ifindex"))
			ifindex = parse_num(argv[a], optval(argc, argv, &a), UINT32_MAX);
		else
			usage_error("unknown argument '%s'", argv[a]);
	}
	conn_open(c);
	m = msg_new(c, NLM_F_DUMP, cmd);
	/* DEVMEM_A_BINDING_IFINDEX == DEVMEM_A_STATS_IFINDEX */
	if (ifindex && nla_put_u32(m, DEVMEM_A_BINDING_IFINDEX, ifindex))
		die("cannot build the request");
	request(c, m, &r);
	print_list(arr);
	json_object_put(arr);
	return 0;
}

/* --- dmabuf-get ------------------------------------------------------------ */

static void fd_data(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[DEVMEM_A_BINDING_MAX + 1];
	int64_t *fd = arg;

	if (!genlmsg_parse(nlh, 0, tb, DEVMEM_A_BINDING_MAX, NULL) &&
	    tb[DEVMEM_A_BINDING_FD])
		*fd = nla_get_u32(tb[DEVMEM_A_BINDING_FD]);
}

static int cmd_dmabuf_get(struct conn *c, int argc, char **argv)
{
	int64_t fd = -1, check = -1;
	struct reply r = { .data = fd_data, .arg = &fd };
	struct json_object *obj;
	struct nl_msg *m;
	bool cloexec;
	void *map;
	off_t size;
	int a = 1, flags;
	uint32_t id = parse_id(argc, argv, &a);

	for (; a < argc; a++) {
		if (!strcmp(argv[a], "--check-size"))
			check = parse_size(argv[a], optval(argc, argv, &a));
		else
			usage_error("unknown argument '%s'", argv[a]);
	}
	conn_open(c);
	m = msg_new(c, 0, DEVMEM_CMD_DMABUF_GET);
	if (nla_put_u32(m, DEVMEM_A_BINDING_ID, id))
		die("cannot build the request");
	request(c, m, &r);
	if (fd < 0)
		die("the kernel's reply carries no fd");
	flags = fcntl(fd, F_GETFD);
	if (flags < 0)
		die("fd %" PRId64 " from the reply is not open here: %s", fd,
		    strerror(errno));
	cloexec = flags & FD_CLOEXEC;
	/* dma-buf files report their size through SEEK_END */
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0)
		die("fd %" PRId64 ": cannot get the dmabuf's size: %s", fd,
		    size < 0 ? strerror(errno) : "size 0");
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap of the dmabuf (%lld bytes): %s", (long long)size,
		    strerror(errno));
	/* touch the first and the last page: the mapping is backed */
	(void)*(volatile uint8_t *)map;
	(void)*((volatile uint8_t *)map + size - 1);
	munmap(map, size);
	if (check >= 0 && size != check)
		die("the dmabuf has %lld bytes, expected %" PRId64,
		    (long long)size, check);

	obj = json_object_new_object();
	json_object_object_add(obj, "id", json_object_new_int64(id));
	json_object_object_add(obj, "fd", json_object_new_int64(fd));
	json_object_object_add(obj, "size", json_object_new_int64(size));
	json_object_object_add(obj, "cloexec", json_object_new_boolean(cloexec));
	json_object_object_add(obj, "mapped", json_object_new_boolean(true));
	print_obj(obj);
	json_object_put(obj);
	close(fd);
	return 0;
}

/* --- monitor --------------------------------------------------------------- */

struct monitor {
	int family;
	unsigned long seen;
};

static int monitor_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct monitor *mon = arg;
	struct json_object *obj, *attrs;
	char name[16];

	if (nlh->nlmsg_type != mon->family ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return NL_SKIP;
	obj = json_object_new_object();
	if (g->cmd < ARRAY_SIZE(ntf_names) && ntf_names[g->cmd])
		snprintf(name, sizeof(name), "%s", ntf_names[g->cmd]);
	else
		snprintf(name, sizeof(name), "cmd-%u", g->cmd);
	json_object_object_add(obj, "event", json_object_new_string(name));
	attrs = binding_to_json(genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0));
	json_object_object_foreach(attrs, key, val)
		json_object_object_add(obj, key, json_object_get(val));
	json_object_put(attrs);
	print_obj(obj);
	fflush(stdout);
	json_object_put(obj);
	mon->seen++;
	return NL_OK;
}

static int seq_any(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static int cmd_monitor(struct conn *c, int argc, char **argv)
{
	struct monitor mon = { 0 };
	unsigned long count = 0;
	long timeout = 0;
	struct nl_cb *cb;
	double deadline = 0;
	int a, grp, fd;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--count"))
			count = parse_num(argv[a], optval(argc, argv, &a), ULONG_MAX);
		else if (!strcmp(argv[a], "--timeout"))
			timeout = parse_num(argv[a], optval(argc, argv, &a), INT_MAX / 1000);
		else
			usage_error("unknown argument '%s'", argv[a]);
	}
	conn_open(c);
	fd = nl_socket_get_fd(c->sk);
	grp = genl_ctrl_resolve_grp(c->sk, DEVMEM_FAMILY_NAME, DEVMEM_MCGRP_MGMT);
	if (grp < 0)
		die("multicast group \"%s\" not found: %s", DEVMEM_MCGRP_MGMT,
		    nl_geterror(grp));
	/* the group is admin-perm: joining needs CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)))
		die("%s: cannot join the %s group", errno_name(errno),
		    DEVMEM_MCGRP_MGMT);
	note("listening on the %s group", DEVMEM_MCGRP_MGMT);
	mon.family = c->family;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		die("out of memory");
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, seq_any, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, monitor_cb, &mon);
	if (timeout) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = ts.tv_sec + ts.tv_nsec / 1e9 + timeout;
	}
	while (!count || mon.seen < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ms = -1, ret;

		if (timeout) {
			struct timespec ts;
			double left;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			left = deadline - (ts.tv_sec + ts.tv_nsec / 1e9);
			if (left <= 0)
				die("timed out after %ld s with %lu of %lu events",
				    timeout, mon.seen, count);
			ms = left * 1000 + 1;
		}
		ret = poll(&pfd, 1, ms);
		if (ret < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (ret <= 0)
			continue;
		ret = nl_recvmsgs(c->sk, cb);
		if (ret < 0 && ret != -NLE_AGAIN)
			die("receive: %s", nl_geterror(ret));
	}
	nl_cb_put(cb);
	return 0;
}

/* --- fuzz ------------------------------------------------------------------ */

/*
 * Malformed and random requests, each of which the family must refuse
 * with an error reply.  None of them can make a binding: this process
 * holds no dmabuf (the fuzzer closes any it inherited), so a bind fails
 * at the latest on its fd.  Requests that name a binding use ids that do
 * not exist, so that the fuzzer neither reads nor unbinds a live binding.
 */

enum fuzz_kind {
	K_BAD_CMD,
	K_UNKNOWN_ATTR,
	K_WRONG_LEN,
	K_TRUNC_ATTR,
	K_TRUNC_NEST,
	K_SHORT_HDR,
	K_MANY_QUEUES,
	K_RANDOM_ID,
	K_RANDOM_BYTES,
	K_BAD_VERSION,
	K_BAD_BIND,
	K_BAD_DUMP,
	K_MISSING,
	K_NR,
};

static const char * const kind_names[K_NR] = {
	[K_BAD_CMD]	= "bad-cmd",
	[K_UNKNOWN_ATTR] = "unknown-attr",
	[K_WRONG_LEN]	= "wrong-length",
	[K_TRUNC_ATTR]	= "truncated-attr",
	[K_TRUNC_NEST]	= "truncated-nest",
	[K_SHORT_HDR]	= "short-genl-header",
	[K_MANY_QUEUES]	= "many-queues",
	[K_RANDOM_ID]	= "random-id",
	[K_RANDOM_BYTES] = "random-bytes",
	[K_BAD_VERSION]	= "bad-version",
	[K_BAD_BIND]	= "bad-bind",
	[K_BAD_DUMP]	= "bad-dump",
	[K_MISSING]	= "missing-attr",
};

/* attribute types each request's policy accepts */
static const uint8_t bind_attrs[] = {
	DEVMEM_A_BINDING_IFINDEX, DEVMEM_A_BINDING_FD, DEVMEM_A_BINDING_QUEUES,
	DEVMEM_A_BINDING_DIRECTION, DEVMEM_A_BINDING_LIFETIME,
};

struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct fuzz {
	struct conn *c;
	uint64_t rng;
	uint32_t existing[1024];
	unsigned int nr_existing;
	uint32_t ifindexes[64];
	unsigned int nr_ifindexes;
	uint32_t fds[8];
	unsigned int nr_fds;
	unsigned long sent, refused, accepted, data, no_reply, stale, redrawn;
	unsigned long by_errno[4096];
	unsigned long by_kind[K_NR];
};

static uint64_t rnd(struct fuzz *f)
{
	/* xorshift64*: reproducible from --seed */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ULL;
}

static uint32_t rnd_below(struct fuzz *f, uint32_t n)
{
	return n ? (rnd(f) >> 32) % n : 0;
}

static bool chance(struct fuzz *f, unsigned int one_in)
{
	return !rnd_below(f, one_in);
}

static void buf_need(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	b->cap = (b->len + n) * 2;
	b->p = realloc(b->p, b->cap);
	if (!b->p)
		die("out of memory");
}

static void buf_raw(struct buf *b, const void *d, size_t n)
{
	buf_need(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void buf_random(struct fuzz *f, struct buf *b, size_t n)
{
	size_t i;

	buf_need(b, n);
	for (i = 0; i < n; i++)
		b->p[b->len++] = rnd(f) >> 56;
}

/* a well-formed attribute header and payload, padded */
static void buf_attr(struct buf *b, uint16_t type, const void *d, uint16_t n)
{
	struct nlattr h = { .nla_len = NLA_HDRLEN + n, .nla_type = type };
	static const uint8_t zero[4];

	buf_raw(b, &h, sizeof(h));
	buf_raw(b, d, n);
	buf_raw(b, zero, NLA_ALIGN(n) - n);
}

static void buf_u32(struct buf *b, uint16_t type, uint32_t v)
{
	buf_attr(b, type, &v, sizeof(v));
}

static bool is_existing(const struct fuzz *f, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < f->nr_existing; i++)
		if (f->existing[i] == id)
			return true;
	return false;
}

/* an id that names no binding: 0 (below the policy's min) or unused */
static uint32_t rnd_id(struct fuzz *f)
{
	uint32_t id;

	if (chance(f, 8))
		return 0;
	do {
		id = chance(f, 2) ? 1 + rnd_below(f, 64) : (uint32_t)rnd(f);
	} while (!id || is_existing(f, id));
	return id;
}

static uint32_t rnd_ifindex(struct fuzz *f)
{
	if (f->nr_ifindexes && !chance(f, 4))
		return f->ifindexes[rnd_below(f, f->nr_ifindexes)];
	return chance(f, 2) ? rnd_below(f, 64) : (uint32_t)rnd(f);
}

static uint32_t rnd_fd(struct fuzz *f)
{
	if (chance(f, 8))
		return (uint32_t)rnd(f);
	return f->fds[rnd_below(f, f->nr_fds)];
}

static uint32_t rnd_queue(struct fuzz *f)
{
	switch (rnd_below(f, 4)) {
	case 0:
		return (uint32_t)rnd(f);
	case 1:
		return rnd_below(f, 64);
	default:
		return rnd_below(f, 8);
	}
}

/* attributes that fit the request's policy (but name nothing usable) */
static void plausible_attrs(struct fuzz *f, struct buf *b, uint8_t cmd)
{
	unsigned int i, n;

	if (cmd != DEVMEM_CMD_BIND) {
		buf_u32(b, DEVMEM_A_BINDING_ID, rnd_id(f));
		return;
	}
	buf_u32(b, DEVMEM_A_BINDING_IFINDEX, rnd_ifindex(f));
	buf_u32(b, DEVMEM_A_BINDING_FD, rnd_fd(f));
	n = 1 + rnd_below(f, 4);
	for (i = 0; i < n; i++)
		buf_u32(b, DEVMEM_A_BINDING_QUEUES, rnd_queue(f));
	if (chance(f, 2))
		buf_u32(b, DEVMEM_A_BINDING_DIRECTION,
			chance(f, 2) ? rnd_below(f, 3) : (uint32_t)rnd(f));
	if (chance(f, 2))
		buf_u32(b, DEVMEM_A_BINDING_LIFETIME,
			chance(f, 2) ? rnd_below(f, 3) : (uint32_t)rnd(f));
}

static uint8_t rnd_do_cmd(struct fuzz *f)
{
	return DEVMEM_CMD_BIND + rnd_below(f, DEVMEM_CMD_DMABUF_GET);
}

/* a command the family has no do (or, with a dump, no dump) handler for */
static uint8_t rnd_bad_cmd(struct fuzz *f, bool dump)
{
	static const uint8_t no_dump[] = {
		DEVMEM_CMD_BIND, DEVMEM_CMD_UNBIND, DEVMEM_CMD_DMABUF_GET,
		DEVMEM_CMD_BIND_NTF, DEVMEM_CMD_UNBIND_NTF, DEVMEM_CMD_FREE_NTF,
		0,
	};

	if (dump && chance(f, 2))
		return no_dump[rnd_below(f, ARRAY_SIZE(no_dump))];
	switch (rnd_below(f, 3)) {
	case 0:
		return 0;
	case 1:
		return DEVMEM_CMD_BIND_NTF + rnd_below(f, 3);
	default:
		return DEVMEM_CMD_MAX + 1 + rnd_below(f, 255 - DEVMEM_CMD_MAX);
	}
}

static uint16_t policy_attr(struct fuzz *f, uint8_t cmd)
{
	if (cmd == DEVMEM_CMD_BIND)
		return bind_attrs[rnd_below(f, ARRAY_SIZE(bind_attrs))];
	return DEVMEM_A_BINDING_ID;
}

/* a type the request's policy does not accept */
static uint16_t unknown_attr(struct fuzz *f, uint8_t cmd)
{
	switch (rnd_below(f, 3)) {
	case 0:
		return 0;
	case 1:
		/* the family's types the request does not take */
		if (cmd == DEVMEM_CMD_BIND)
			return chance(f, 2) ? DEVMEM_A_BINDING_ID :
			       DEVMEM_A_BINDING_LIFETIME + 1 +
			       rnd_below(f, DEVMEM_A_BINDING_MAX - DEVMEM_A_BINDING_LIFETIME);
		return DEVMEM_A_BINDING_IFINDEX + rnd_below(f, DEVMEM_A_BINDING_MAX - 1);
	default:
		return DEVMEM_A_STATS_MAX + 1 + rnd_below(f, NLA_TYPE_MASK - DEVMEM_A_STATS_MAX);
	}
}

/*
 * Could this request succeed?  A conservative reading of its attributes
 * (flags masked, any length): a request naming a live binding, or a dump
 * that is well formed.  Such requests are drawn again.
 */
static bool could_succeed(const struct fuzz *f, uint8_t cmd, int flags,
			  const uint8_t *attrs, size_t len)
{
	const struct nlattr *a;
	bool well_formed = true;
	size_t off = 0;

	if (cmd < DEVMEM_CMD_UNBIND || cmd > DEVMEM_CMD_DMABUF_GET)
		return false;	/* a bind cannot succeed without a dmabuf */
	if (flags & NLM_F_DUMP) {
		if (cmd != DEVMEM_CMD_BINDING_GET && cmd != DEVMEM_CMD_STATS_GET)
			return false;
		while (off + NLA_HDRLEN <= len) {
			a = (const void *)(attrs + off);
			if (a->nla_len < NLA_HDRLEN || a->nla_len > len - off ||
			    (a->nla_type & NLA_TYPE_MASK) != DEVMEM_A_BINDING_IFINDEX ||
			    a->nla_len != NLA_HDRLEN + 4 ||
			    !*(const uint32_t *)((const uint8_t *)a + NLA_HDRLEN))
				well_formed = false;
			if (a->nla_len < NLA_HDRLEN)
				break;
			off += NLA_ALIGN(a->nla_len);
		}
		return well_formed && off == len;
	}
	while (off + NLA_HDRLEN <= len) {
		uint32_t id;

		a = (const void *)(attrs + off);
		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == DEVMEM_A_BINDING_ID &&
		    a->nla_len >= NLA_HDRLEN + 4 && off + NLA_HDRLEN + 4 <= len) {
			memcpy(&id, (const uint8_t *)a + NLA_HDRLEN, sizeof(id));
			if (is_existing(f, id))
				return true;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return false;
}

/* Build one request: genl header (cmd, version) then attributes. */
static void fuzz_build(struct fuzz *f, enum fuzz_kind kind, struct buf *b,
		       uint8_t *cmd, uint8_t *version, int *flags)
{
	struct nlattr h;
	unsigned int i, n;
	uint16_t type;

	*cmd = rnd_do_cmd(f);
	*version = DEVMEM_FAMILY_VERSION;
	*flags = 0;
	b->len = 0;

	switch (kind) {
	case K_BAD_CMD:
		*cmd = rnd_bad_cmd(f, false);
		plausible_attrs(f, b, chance(f, 2) ? DEVMEM_CMD_BIND : DEVMEM_CMD_UNBIND);
		break;
	case K_UNKNOWN_ATTR: {
		uint16_t len = rnd_below(f, 17);

		type = unknown_attr(f, *cmd);
		h = (struct nlattr){ .nla_len = NLA_HDRLEN + len, .nla_type = type };
		if (chance(f, 2))
			plausible_attrs(f, b, *cmd);
		buf_raw(b, &h, sizeof(h));
		buf_random(f, b, NLA_ALIGN(len));
		if (chance(f, 2))
			plausible_attrs(f, b, *cmd);
		break;
	}
	case K_WRONG_LEN: {
		static const uint16_t lens[] = { 0, 1, 2, 3, 5, 6, 7, 8, 12, 16, 64 };
		uint16_t len = lens[rnd_below(f, ARRAY_SIZE(lens))];

		if (*cmd == DEVMEM_CMD_BIND && chance(f, 2))
			plausible_attrs(f, b, *cmd);
		h = (struct nlattr){ .nla_len = NLA_HDRLEN + len,
				     .nla_type = policy_attr(f, *cmd) };
		buf_raw(b, &h, sizeof(h));
		buf_random(f, b, NLA_ALIGN(len));
		break;
	}
	case K_TRUNC_ATTR:
		if (chance(f, 2))
			plausible_attrs(f, b, *cmd);
		switch (rnd_below(f, 3)) {
		case 0:	/* claims more than the message holds */
			h = (struct nlattr){ .nla_len = NLA_HDRLEN + 8 + rnd_below(f, 200),
					     .nla_type = policy_attr(f, *cmd) };
			buf_raw(b, &h, sizeof(h));
			buf_random(f, b, rnd_below(f, 8));
			break;
		case 1:	/* shorter than its own header */
			h = (struct nlattr){ .nla_len = rnd_below(f, NLA_HDRLEN),
					     .nla_type = policy_attr(f, *cmd) };
			buf_raw(b, &h, sizeof(h));
			buf_random(f, b, 4 * rnd_below(f, 3));
			break;
		default: /* a header cut short: 1-3 trailing bytes */
			buf_random(f, b, 1 + rnd_below(f, 3));
			break;
		}
		break;
	case K_TRUNC_NEST: {
		struct buf inner = { 0 };

		/* NLA_F_NESTED on a scalar, holding nested attributes that may be cut */
		buf_u32(&inner, DEVMEM_A_BINDING_ID, rnd_id(f));
		h = (struct nlattr){ .nla_len = NLA_HDRLEN + 4 + rnd_below(f, 64),
				     .nla_type = policy_attr(f, *cmd) };
		buf_raw(&inner, &h, sizeof(h));
		if (chance(f, 2))
			buf_random(f, &inner, rnd_below(f, 8));
		type = (chance(f, 4) ? unknown_attr(f, *cmd) : policy_attr(f, *cmd)) |
		       NLA_F_NESTED;
		h = (struct nlattr){ .nla_len = NLA_HDRLEN + inner.len, .nla_type = type };
		if (chance(f, 3))	/* the outer one cut too */
			h.nla_len += 4 + rnd_below(f, 64);
		buf_raw(b, &h, sizeof(h));
		buf_raw(b, inner.p, inner.len);
		free(inner.p);
		break;
	}
	case K_SHORT_HDR:
		/* fewer bytes than a genlmsghdr: the header itself is cut */
		buf_random(f, b, rnd_below(f, GENL_HDRLEN));
		return;
	case K_MANY_QUEUES:
		*cmd = DEVMEM_CMD_BIND;
		if (!chance(f, 8))
			buf_u32(b, DEVMEM_A_BINDING_IFINDEX, rnd_ifindex(f));
		if (!chance(f, 8))
			buf_u32(b, DEVMEM_A_BINDING_FD, rnd_fd(f));
		n = 1000 + rnd_below(f, 11000);
		switch (rnd_below(f, 3)) {
		case 0:
			for (i = 0; i < n; i++)
				buf_u32(b, DEVMEM_A_BINDING_QUEUES, (uint32_t)rnd(f));
			break;
		case 1:
			for (i = 0; i < n; i++)
				buf_u32(b, DEVMEM_A_BINDING_QUEUES, i % 4);
			break;
		default:
			for (i = 0; i < n; i++)
				buf_u32(b, DEVMEM_A_BINDING_QUEUES, i);
			break;
		}
		break;
	case K_RANDOM_ID:
		*cmd = DEVMEM_CMD_UNBIND + rnd_below(f, 4);
		buf_u32(b, DEVMEM_A_BINDING_ID, rnd_id(f));
		break;
	case K_RANDOM_BYTES:
		if (chance(f, 4))
			*cmd = rnd_below(f, 256);
		n = rnd_below(f, 600);
		if (chance(f, 2))
			n &= ~3U;
		buf_random(f, b, n);
		break;
	case K_BAD_VERSION:
		do
			*version = rnd_below(f, 256);
		while (*version == DEVMEM_FAMILY_VERSION);
		if (chance(f, 4))
			*cmd = rnd_bad_cmd(f, false);
		plausible_attrs(f, b, *cmd);
		break;
	case K_BAD_BIND:
		*cmd = DEVMEM_CMD_BIND;
		plausible_attrs(f, b, *cmd);
		if (chance(f, 2))	/* and the same queue again */
			buf_u32(b, DEVMEM_A_BINDING_QUEUES, rnd_below(f, 4));
		break;
	case K_BAD_DUMP:
		*flags = NLM_F_DUMP;
		if (chance(f, 2)) {
			*cmd = rnd_bad_cmd(f, true);
			break;
		}
		*cmd = chance(f, 2) ? DEVMEM_CMD_BINDING_GET : DEVMEM_CMD_STATS_GET;
		switch (rnd_below(f, 4)) {
		case 0:	/* below the policy's min */
			buf_u32(b, DEVMEM_A_BINDING_IFINDEX, 0);
			break;
		case 1: {
			uint16_t len = 1 + rnd_below(f, 12);

			if (len == 4)
				len = 8;
			h = (struct nlattr){ .nla_len = NLA_HDRLEN + len,
					     .nla_type = DEVMEM_A_BINDING_IFINDEX };
			buf_raw(b, &h, sizeof(h));
			buf_random(f, b, NLA_ALIGN(len));
			break;
		}
		case 2:
			type = chance(f, 2) ? DEVMEM_A_BINDING_ID :
			       DEVMEM_A_STATS_MAX + 1 + rnd_below(f, 1000);
			buf_u32(b, type, (uint32_t)rnd(f));
			break;
		default:
			h = (struct nlattr){ .nla_len = NLA_HDRLEN + 8 + rnd_below(f, 100),
					     .nla_type = DEVMEM_A_BINDING_IFINDEX };
			buf_raw(b, &h, sizeof(h));
			break;
		}
		break;
	case K_MISSING:
		if (*cmd == DEVMEM_CMD_BIND) {
			/* drop at least one of ifindex, fd and queues */
			unsigned int keep = rnd_below(f, 7);

			if (keep & 1)
				buf_u32(b, DEVMEM_A_BINDING_IFINDEX, rnd_ifindex(f));
			if (keep & 2)
				buf_u32(b, DEVMEM_A_BINDING_FD, rnd_fd(f));
			if (keep & 4)
				buf_u32(b, DEVMEM_A_BINDING_QUEUES, rnd_queue(f));
		}
		if (chance(f, 2))
			buf_u32(b, chance(f, 2) ? DEVMEM_A_BINDING_DIRECTION :
				   DEVMEM_A_BINDING_LIFETIME, 0);
		if (*cmd != DEVMEM_CMD_BIND && !b->len && chance(f, 2))
			buf_u32(b, DEVMEM_A_BINDING_LIFETIME, 0);
		break;
	case K_NR:
		break;
	}
}

static void fuzz_unbind(struct fuzz *f, uint32_t id)
{
	struct reply r = { 0 };
	struct nl_msg *m = msg_new(f->c, 0, DEVMEM_CMD_UNBIND);

	nla_put_u32(m, DEVMEM_A_BINDING_ID, id);
	if (transact(f->c, m, &r) < 0)
		note("cannot unbind binding %u the fuzzer made: no answer", id);
	else if (r.err)
		note("cannot unbind binding %u the fuzzer made: %s: %s", id,
		     errno_name(r.err), r.extack[0] ? r.extack : strerror(r.err));
	nlmsg_free(m);
}

struct fuzz_answer {
	int64_t id;
	int64_t fd;
};

static void fuzz_data(struct nlmsghdr *nlh, void *arg)
{
	struct fuzz_answer *ans = arg;

	id_data(nlh, &ans->id);
	fd_data(nlh, &ans->fd);
}

static void fuzz_one(struct fuzz *f, enum fuzz_kind kind, struct buf *b)
{
	struct fuzz_answer ans = { .id = -1, .fd = -1 };
	struct reply r = { .data = fuzz_data, .arg = &ans };
	struct genlmsghdr g = { 0 };
	struct buf msgb = { 0 };
	uint8_t cmd, version;
	struct nl_msg *m;
	int flags, ret;

	for (;;) {
		fuzz_build(f, kind, b, &cmd, &version, &flags);
		if (!could_succeed(f, cmd, flags, b->p, b->len))
			break;
		f->redrawn++;
	}
	if (kind != K_SHORT_HDR) {
		g.cmd = cmd;
		g.version = version;
		buf_raw(&msgb, &g, sizeof(g));
	}
	buf_raw(&msgb, b->p, b->len);

	m = nlmsg_alloc_size(NLMSG_HDRLEN + msgb.len + 64);
	if (!m || !nlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, f->c->family, 0, flags) ||
	    (msgb.len && nlmsg_append(m, msgb.p, msgb.len, 0)))
		die("cannot build request %lu", f->sent);
	free(msgb.p);

	f->sent++;
	f->by_kind[kind]++;
	ret = transact(f->c, m, &r);
	nlmsg_free(m);
	f->stale += r.nr_stale;
	if (ret < 0) {
		f->no_reply++;
		note("request %lu (%s, cmd %u): no error reply: %s", f->sent,
		     kind_names[kind], cmd, strerror(-ret));
		return;
	}
	if (r.nr_data)
		f->data += r.nr_data;
	if (r.err && !r.nr_data) {
		f->refused++;
		if (r.err < (int)ARRAY_SIZE(f->by_errno))
			f->by_errno[r.err]++;
		return;
	}
	f->accepted++;
	note("request %lu (%s, cmd %u, flags 0x%x, %zu attribute bytes) was answered with %s and %u data messages",
	     f->sent, kind_names[kind], cmd, flags, b->len,
	     r.err ? errno_name(r.err) : "success", r.nr_data);
	if (cmd == DEVMEM_CMD_BIND && ans.id > 0) {
		note("the fuzzer made binding %" PRId64 "; unbinding it", ans.id);
		if (f->nr_existing < ARRAY_SIZE(f->existing))
			f->existing[f->nr_existing++] = ans.id;
		fuzz_unbind(f, ans.id);
	}
	if (cmd == DEVMEM_CMD_DMABUF_GET && ans.fd >= 0)
		close(ans.fd);
}

static bool is_dmabuf(int fd)
{
	char path[64], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strncmp(link, "/dmabuf:", 8) || !strncmp(link, "anon_inode:dmabuf", 17);
}

/* No dmabuf may be open here: then no bind the fuzzer sends can succeed. */
static void fuzz_drop_dmabufs(struct fuzz *f)
{
	int fd, null, sock = nl_socket_get_fd(f->c->sk);

	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		die("/dev/null: %s", strerror(errno));
	for (fd = 0; fd < 1024; fd++) {
		if (fd == sock || fd == null || !is_dmabuf(fd))
			continue;
		if (fd <= 2)
			dup2(null, fd);
		else
			close(fd);
	}
	if (fcntl(BAD_FD, F_GETFD) >= 0)
		close(BAD_FD);
	/* fds a bind may name: standard ones, the socket, /dev/null, closed */
	f->fds[f->nr_fds++] = 0;
	f->fds[f->nr_fds++] = 1;
	f->fds[f->nr_fds++] = 2;
	f->fds[f->nr_fds++] = sock;
	f->fds[f->nr_fds++] = null;
	f->fds[f->nr_fds++] = BAD_FD;
}

static struct json_object *dump_bindings(struct conn *c)
{
	struct json_object *arr = json_object_new_array();
	struct reply r = { .data = collect_binding, .arg = arr };

	request(c, msg_new(c, NLM_F_DUMP, DEVMEM_CMD_BINDING_GET), &r);
	return arr;
}

/* the state of binding ID, or NULL if it is not listed */
static const char *binding_state(struct json_object *arr, uint32_t id)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *b = json_object_array_get_idx(arr, i), *v;

		if (json_object_object_get_ex(b, "id", &v) &&
		    json_object_get_int64(v) == id)
			return json_object_object_get_ex(b, "state", &v) ?
			       json_object_get_string(v) : "unknown";
	}
	return NULL;
}

static int cmd_fuzz(struct conn *c, int argc, char **argv)
{
	struct fuzz *f = calloc(1, sizeof(*f));
	struct json_object *arr, *out, *errs, *kinds;
	unsigned long count = 1000, i;
	uint64_t seed = 1;
	int64_t keep = -1;
	struct if_nameindex *ifs, *ifp;
	struct buf b = { 0 };
	const char *state;
	size_t k;
	int a;

	if (!f)
		die("out of memory");
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--count"))
			count = parse_num(argv[a], optval(argc, argv, &a), ULONG_MAX);
		else if (!strcmp(argv[a], "--seed"))
			seed = parse_num(argv[a], optval(argc, argv, &a), UINT64_MAX);
		else if (!strcmp(argv[a], "--keep-id"))
			keep = parse_num(argv[a], optval(argc, argv, &a), UINT32_MAX);
		else
			usage_error("unknown argument '%s'", argv[a]);
	}
	conn_open(c);
	f->c = c;
	f->rng = seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
	if (!f->rng)
		f->rng = 1;
	fuzz_drop_dmabufs(f);
	set_rcvtimeo(c->sk, FUZZ_TIMEOUT_S);

	arr = dump_bindings(c);
	for (k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *v;

		if (json_object_object_get_ex(json_object_array_get_idx(arr, k), "id", &v) &&
		    f->nr_existing < ARRAY_SIZE(f->existing))
			f->existing[f->nr_existing++] = json_object_get_int64(v);
	}
	if (keep >= 0) {
		state = binding_state(arr, keep);
		if (!state || strcmp(state, "active"))
			die("binding %" PRId64 " is %s before fuzzing", keep,
			    state ?: "not listed");
	}
	json_object_put(arr);

	ifs = if_nameindex();
	for (ifp = ifs; ifp && ifp->if_index && f->nr_ifindexes < ARRAY_SIZE(f->ifindexes); ifp++)
		f->ifindexes[f->nr_ifindexes++] = ifp->if_index;
	if (ifs)
		if_freenameindex(ifs);

	for (i = 0; i < count; i++)
		fuzz_one(f, rnd_below(f, K_NR), &b);
	free(b.p);

	if (keep >= 0) {
		arr = dump_bindings(c);
		state = binding_state(arr, keep);
		if (!state || strcmp(state, "active")) {
			note("binding %" PRId64 " is %s after fuzzing", keep,
			     state ?: "not listed");
			f->accepted++;
		}
		json_object_put(arr);
	}

	out = json_object_new_object();
	json_object_object_add(out, "sent", json_object_new_int64(f->sent));
	json_object_object_add(out, "refused", json_object_new_int64(f->refused));
	json_object_object_add(out, "accepted", json_object_new_int64(f->accepted));
	json_object_object_add(out, "no-reply", json_object_new_int64(f->no_reply));
	json_object_object_add(out, "data-messages", json_object_new_int64(f->data));
	json_object_object_add(out, "stale-messages", json_object_new_int64(f->stale));
	json_object_object_add(out, "redrawn", json_object_new_int64(f->redrawn));
	errs = json_object_new_object();
	for (k = 0; k < ARRAY_SIZE(f->by_errno); k++)
		if (f->by_errno[k])
			json_object_object_add(errs, errno_name(k),
					       json_object_new_int64(f->by_errno[k]));
	json_object_object_add(out, "errors", errs);
	kinds = json_object_new_object();
	for (k = 0; k < K_NR; k++)
		json_object_object_add(kinds, kind_names[k],
				       json_object_new_int64(f->by_kind[k]));
	json_object_object_add(out, "kinds", kinds);
	if (json) {
		print_obj(out);
	} else {
		printf("sent %lu, refused %lu, accepted %lu, no reply %lu, data messages %lu, stale messages %lu\n",
		       f->sent, f->refused, f->accepted, f->no_reply, f->data,
		       f->stale);
		printf("errors:");
		json_object_object_foreach(errs, key, val)
			printf(" %s %s", key, json_object_get_string(val));
		printf("\nkinds:");
		json_object_object_foreach(kinds, key2, val2)
			printf(" %s %s", key2, json_object_get_string(val2));
		printf("\n");
	}
	json_object_put(out);

	k = f->accepted || f->no_reply || f->data || f->stale ||
	    f->refused != count;
	free(f);
	return k ? 1 : 0;
}

/* --- udmabuf: hand a dmabuf to a command --------------------------------- */

/*
 * udmabuf SIZE [--fd N] -- COMMAND [ARG...]: run COMMAND (exec, same pid)
 * with a new udmabuf open as fd N, for an application that owns its
 * dmabuf and leaves binding it to an administrator (bind --pid --fd).
 */
static int cmd_udmabuf(int argc, char **argv)
{
	uint64_t size;
	long target = 3;
	int a = 1, fd;

	if (a >= argc || !strcmp(argv[a], "--"))
		usage_error("SIZE is required");
	size = parse_size("SIZE", argv[a++]);
	if (!size || size % sysconf(_SC_PAGESIZE))
		usage_error("SIZE must be a non-zero multiple of the page size");
	for (; a < argc && strcmp(argv[a], "--"); a++) {
		if (!strcmp(argv[a], "--fd"))
			target = parse_num(argv[a], optval(argc, argv, &a), INT_MAX);
		else
			usage_error("unknown argument '%s'", argv[a]);
	}
	if (a + 1 >= argc)
		usage_error("-- COMMAND is required");
	fd = udmabuf_create(size);
	if (fd != target) {
		/* dup2 leaves the new fd without FD_CLOEXEC */
		if (dup2(fd, target) < 0)
			die("dup2 to fd %ld: %s", target, strerror(errno));
		close(fd);
	} else if (fcntl(fd, F_SETFD, 0) < 0) {
		die("fcntl: %s", strerror(errno));
	}
	execvp(argv[a + 1], argv + a + 1);
	die("%s: %s", argv[a + 1], strerror(errno));
}

/* --- main ------------------------------------------------------------------ */

/* what 'ip netns exec' does for a netlink client, without the extra exec */
static void enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("-n %s: %s", name, strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0)
		die("-n %s: setns: %s", name, strerror(errno));
	close(fd);
}

int main(int argc, char **argv)
{
	struct conn c = { 0 };
	const char *netns = NULL;
	int a = 1, ret;

	for (; a < argc && argv[a][0] == '-'; a++) {
		if (!strcmp(argv[a], "-j") || !strcmp(argv[a], "--json")) {
			json = true;
		} else if (!strcmp(argv[a], "-n") || !strcmp(argv[a], "--netns")) {
			netns = optval(argc, argv, &a);
		} else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else {
			usage_error("unknown option '%s'", argv[a]);
		}
	}
	if (a >= argc)
		usage_error("a COMMAND is required");
	if (!strcmp(argv[a], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	cmd_name = argv[a];
	argc -= a;
	argv += a;

	if (strcmp(cmd_name, "bind") && strcmp(cmd_name, "unbind") &&
	    strcmp(cmd_name, "get") && strcmp(cmd_name, "dump") &&
	    strcmp(cmd_name, "stats") && strcmp(cmd_name, "stats-dump") &&
	    strcmp(cmd_name, "dmabuf-get") && strcmp(cmd_name, "monitor") &&
	    strcmp(cmd_name, "fuzz") && strcmp(cmd_name, "udmabuf")) {
		const char *bad = cmd_name;

		cmd_name = "";
		usage_error("unknown command '%s'", bad);
	}

	if (netns)
		enter_netns(netns);
	/* each command checks its arguments, then connects */
	if (!strcmp(cmd_name, "bind"))
		ret = cmd_bind(&c, argc, argv);
	else if (!strcmp(cmd_name, "unbind"))
		ret = cmd_unbind(&c, argc, argv);
	else if (!strcmp(cmd_name, "get"))
		ret = cmd_get_one(&c, argc, argv, DEVMEM_CMD_BINDING_GET, collect_binding);
	else if (!strcmp(cmd_name, "dump"))
		ret = cmd_dump(&c, argc, argv, DEVMEM_CMD_BINDING_GET, collect_binding);
	else if (!strcmp(cmd_name, "stats"))
		ret = cmd_get_one(&c, argc, argv, DEVMEM_CMD_STATS_GET, collect_stats);
	else if (!strcmp(cmd_name, "stats-dump"))
		ret = cmd_dump(&c, argc, argv, DEVMEM_CMD_STATS_GET, collect_stats);
	else if (!strcmp(cmd_name, "dmabuf-get"))
		ret = cmd_dmabuf_get(&c, argc, argv);
	else if (!strcmp(cmd_name, "monitor"))
		ret = cmd_monitor(&c, argc, argv);
	else if (!strcmp(cmd_name, "fuzz"))
		ret = cmd_fuzz(&c, argc, argv);
	else
		ret = cmd_udmabuf(argc, argv);
	conn_close(&c);
	return ret;
}
