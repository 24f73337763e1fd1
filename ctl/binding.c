// SPDX-License-Identifier: GPL-2.0
/*
 * devmemctl binding: bind dmabufs to rx queues, or to a device for
 * transmit, with the devmem family; unbind them, list them.
 *
 * The dmabuf is an application's ("dmabuf pid PID fd N": pidfd_getfd()
 * takes a duplicate, the application keeps its own fd) or one devmemctl
 * makes from a memfd ("dmabuf udmabuf size SIZE"). Either way the binding
 * holds its own reference and devmemctl closes its fd before it exits, so
 * a udmabuf lives exactly as long as its binding; applications map it with
 * the family's dmabuf-get (devmem-nc --binding ID does).
 *
 * Bindings are persistent unless "lifetime socket": then devmemctl stays
 * in the foreground holding the netlink socket, and the binding ends when
 * devmemctl does (SIGINT or SIGTERM), however it ends.
 *
 * A tx binding ("direction tx") has no queues: sockets whose route leaves
 * through its device send from its dmabuf (sendmsg with SCM_DEVMEM_DMABUF
 * naming the binding id; devmem-nc --tx devmem --binding ID does).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/devmem.h>
#include <linux/udmabuf.h>

#include "devmemctl.h"

#define UDMABUF_LIMIT	"/sys/module/udmabuf/parameters/size_limit_mb"

static const char * const direction_names[] = {
	[DEVMEM_DIRECTION_RX] = "rx",
	[DEVMEM_DIRECTION_TX] = "tx",
};

static const char * const lifetime_names[] = {
	[DEVMEM_LIFETIME_PERSISTENT] = "persistent",
	[DEVMEM_LIFETIME_SOCKET] = "socket",
};

static const char * const state_names[] = {
	[DEVMEM_STATE_ACTIVE] = "active",
	[DEVMEM_STATE_DRAINING] = "draining",
};

#define ENUM_NAME(names, v) \
	((v) < ARRAY_SIZE(names) && (names)[v] ? (names)[v] : "unknown")

/* ---- shared with dev and monitor ------------------------------------------- */

int parse_queue_list(const char *kw, const char *val, uint32_t **queues,
		     unsigned int *nr)
{
	char why[80];
	int ret = devmem_parse_queues(val, MAX_QUEUE_ID, queues, nr, why,
				      sizeof(why));

	if (ret == -ENOMEM)
		return error("out of memory");
	return ret ? usage_bad(kw, val, why) : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void fmt_queue_ranges(char *buf, size_t len, const uint32_t *q, unsigned int n)
{
	uint32_t *s = malloc((n ?: 1) * sizeof(*s));
	unsigned int i, j;
	size_t off = 0;

	snprintf(buf, len, "none");
	if (!n || !s) {
		free(s);
		return;
	}
	memcpy(s, q, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	for (i = 0; i < n && off < len; i = j + 1) {
		for (j = i; j + 1 < n && s[j + 1] == s[j] + 1; j++)
			;
		off += snprintf(buf + off, len - off, j > i ? "%s%u-%u" : "%s%u",
				i ? "," : "", s[i], s[j]);
	}
	free(s);
}

void out_queues(const char *key, const char *text_word, const uint32_t *q,
		unsigned int n)
{
	char ranges[1024], fmt[64];

	if (json_out) {
		out_u32_array(key, text_word, q, n);
		return;
	}
	fmt_queue_ranges(ranges, sizeof(ranges), q, n);
	snprintf(fmt, sizeof(fmt), "%s %%s", text_word);
	out_str(key, fmt, ranges);
}

int ifname_arg(const char *kw, const char *name, uint32_t *ifindex)
{
	*ifindex = strlen(name) < IF_NAMESIZE ? if_nametoindex(name) : 0;
	if (!*ifindex)
		return usage_bad(kw, name, "no such device");
	return 0;
}

/* a raw number in JSON, words with units in text: "key TEXT" */
static void out_unit(const char *key, uint64_t raw, const char *text)
{
	char fmt[64];

	if (json_out) {
		out_u64(key, "%" PRIu64, raw);
		return;
	}
	snprintf(fmt, sizeof(fmt), "%s %%s", key);
	out_str(key, fmt, text);
}

static void fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (u + 1 < ARRAY_SIZE(units) && bytes && !(bytes % 1024)) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%s", bytes, units[u]);
}

void binding_fields(const struct devmem_binding *b, bool freed)
{
	char ifname[IF_NAMESIZE], text[64];
	time_t t = b->create_time / 1000000000;
	struct tm tm;

	out_u64("id", "binding %" PRIu64, b->id);
	if (if_indextoname(b->ifindex, ifname))
		out_str("dev", "dev %s", ifname);
	out_u64("ifindex", "ifindex %" PRIu64, b->ifindex);
	/* a tx binding belongs to the device, not to queues */
	if (b->direction != DEVMEM_DIRECTION_TX)
		out_queues("queues", "queues", b->queues, b->nr_queues);
	out_str("direction", "direction %s",
		ENUM_NAME(direction_names, b->direction));
	out_str("lifetime", "lifetime %s",
		ENUM_NAME(lifetime_names, b->lifetime));
	if (!freed)
		out_str("state", "state %s", ENUM_NAME(state_names, b->state));
	fmt_size(text, sizeof(text), b->dmabuf_size);
	out_unit("dmabuf-size", b->dmabuf_size, text);
	/* absent where the owner is not visible, and in notifications */
	if (b->owner_pid)
		out_u64("owner-pid", "owner-pid %" PRIu64, b->owner_pid);
	out_str("owner-comm", "owner-comm %s", b->owner_comm);
	if (!localtime_r(&t, &tm) ||
	    !strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S%z", &tm))
		snprintf(text, sizeof(text), "%" PRIu64 "ns", b->create_time);
	out_unit("create-time", b->create_time, text);
}

/* ---- bindings collected from a dump -------------------------------------- */

struct blist {
	struct devmem_binding *v;
	unsigned int n;
	bool oom;
};

static void blist_add(const struct devmem_binding *b, void *arg)
{
	struct blist *l = arg;
	struct devmem_binding *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	struct devmem_binding *c;

	if (!v) {
		l->oom = true;
		return;
	}
	l->v = v;
	c = &v[l->n];
	*c = *b;
	c->queues = malloc((b->nr_queues ?: 1) * sizeof(*c->queues));
	if (!c->queues) {
		l->oom = true;
		return;
	}
	/* a tx binding has no queues: b->queues is NULL */
	if (b->nr_queues)
		memcpy(c->queues, b->queues, b->nr_queues * sizeof(*c->queues));
	l->n++;
}

static void blist_free(struct blist *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		devmem_binding_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int blist_dump(struct devmem_nl *nl, uint32_t ifindex, struct blist *l,
		      struct devmem_err *e)
{
	int ret = devmem_binding_dump(nl, ifindex, blist_add, l, e);

	if (!ret && l->oom) {
		e->err = ENOMEM;
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		ret = -ENOMEM;
	}
	return ret;
}

/* ---- binding add ------------------------------------------------------------ */

/* lifetime socket: keep the binding's netlink socket open until SIGINT or
 * SIGTERM; the kernel unbinds when it closes
 */
static void hold_until_signal(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(stdout);
	sigwait(&set, &sig);
}

static void add_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl binding add dev IFNAME [ direction rx ] queues LIST DMABUF [ LIFETIME ]\n"
"       devmemctl binding add dev IFNAME direction tx DMABUF [ LIFETIME ]\n"
"       (alias: devmemctl bind ...)\n"
"where  DMABUF := { dmabuf pid PID fd N | dmabuf udmabuf size SIZE }\n"
"       LIFETIME := lifetime { persistent | socket }\n"
"       LIST := queue ids and ranges, like 2, 2-3 or 1,4-5\n"
"       SIZE := bytes, with a K, M, G or T suffix (powers of 1024)\n"
"direction rx (the default): packets the queues receive land in the dmabuf.\n"
"direction tx: sockets of the device send from the dmabuf (no queues).\n"
"pid PID fd N: bind the dmabuf process PID has open as fd N (taken with\n"
"pidfd_getfd(); the process keeps its fd). udmabuf: bind a new udmabuf;\n"
"applications map it with the devmem family's dmabuf-get, e.g.\n"
"'devmem-nc -l --binding ID' or 'devmem-nc -c ADDR --tx devmem --binding ID'.\n"
"The binding lives until 'binding del', or with lifetime socket while\n"
"devmemctl runs: it stays in the foreground and the binding ends when\n"
"devmemctl ends (SIGINT or SIGTERM).\n");
}

static int parse_size(const char *kw, const char *val, uint64_t *out)
{
	char why[96];
	uint64_t v;

	if (devmem_parse_size(val, &v, why, sizeof(why)))
		return usage_bad(kw, val, why);
	if (!v || v % getpagesize()) {
		snprintf(why, sizeof(why),
			 "a udmabuf is a non-zero multiple of the page size (%d bytes)",
			 getpagesize());
		return usage_bad(kw, val, why);
	}
	*out = v;
	return 0;
}

static int udmabuf_make(uint64_t size, int *out)
{
	unsigned int limit_mb = 0;
	char human[32];
	int fd;
	FILE *f;

	fmt_size(human, sizeof(human), size);
	fd = devmem_udmabuf_create(size);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (fd == -ENOENT && access("/dev/udmabuf", F_OK))
		return error("cannot open /dev/udmabuf: %s (modprobe udmabuf)",
			     strerror(-fd));
	f = fopen(UDMABUF_LIMIT, "r");
	if (f) {
		if (fscanf(f, "%u", &limit_mb) != 1)
			limit_mb = 0;
		fclose(f);
	}
	if (fd == -EINVAL && limit_mb && size > (uint64_t)limit_mb << 20)
		return error("cannot make a udmabuf of %s: udmabuf's limit is %u MiB (%s)",
			     human, limit_mb, UDMABUF_LIMIT);
	return error("cannot make a udmabuf of %s: %s", human, strerror(-fd));
}

/* a duplicate of fd @fd of process @pid (needs ptrace access to it) */
static int pid_fd_take(uint32_t pid, uint32_t fd, int *out)
{
	int pidfd, ret, err;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		if (errno == ESRCH)
			return error("no process with pid %u", pid);
		return error("pidfd_open(%u): %s", pid, strerror(errno));
	}
	ret = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	err = errno;
	close(pidfd);
	if (ret >= 0) {
		*out = ret;
		return 0;
	}
	if (err == EBADF)
		return error("process %u has no fd %u", pid, fd);
	if (err == EPERM)
		return error("cannot take fd %u of process %u: %s (it takes ptrace access to the process)",
			     fd, pid, strerror(err));
	return error("cannot take fd %u of process %u: %s", fd, pid,
		     strerror(err));
}

/* what would help after a refused bind */
static const char *bind_hint(const struct devmem_err *e, const char *ifname,
			     uint32_t direction, const char *queues,
			     const char *fd_what, char *buf, size_t len)
{
	/* the rx hints are about queues and header split */
	if (direction == DEVMEM_DIRECTION_TX) {
		if (e->err == EPERM)
			return "binding add needs CAP_NET_ADMIN";
		if (e->err == EINVAL && strstr(e->msg, "not a dmabuf"))
			return fd_what;
		return NULL;
	}
	switch (e->err) {
	case EPERM:
		return "binding add needs CAP_NET_ADMIN";
	case EBUSY:
		if (strstr(e->msg, "XDP"))
			snprintf(buf, len, "detach it with 'ip link set %s xdp off'",
				 ifname);
		else
			snprintf(buf, len, "see 'devmemctl binding show dev %s'",
				 ifname);
		return buf;
	case ERANGE:
		snprintf(buf, len, "see 'devmemctl dev show %s'", ifname);
		return buf;
	case ENETDOWN:
		snprintf(buf, len, "run 'ip link set %s up'", ifname);
		return buf;
	case EOPNOTSUPP:
		if (!strstr(e->msg, "tcp-data-split"))
			return NULL;
		snprintf(buf, len, "%s cannot split headers from payloads, so it cannot receive into device memory",
			 ifname);
		return buf;
	case EINVAL:
		if (strstr(e->msg, "tcp-data-split")) {
			snprintf(buf, len, "run 'devmemctl dev setup %s devmem-queues %s'",
				 ifname, queues);
			return buf;
		}
		if (strstr(e->msg, "not a dmabuf"))
			return fd_what;
		return NULL;
	}
	return NULL;
}

/* "fd 5 of process 42 is /dev/null", from our duplicate @fd */
static void fd_describe(char *buf, size_t len, int fd, uint32_t pid,
			uint32_t pid_fd)
{
	char link[64], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		n = snprintf(target, sizeof(target), "not a dmabuf");
	target[n] = '\0';
	snprintf(buf, len, "fd %u of process %u is %s", pid_fd, pid, target);
}

static int binding_add(int argc, char **argv)
{
	enum { SRC_NONE, SRC_PID, SRC_UDMABUF } src = SRC_NONE;
	const char *ifname = NULL, *queues_arg = NULL;
	uint32_t ifindex = 0, pid = 0, pid_fd = 0, id, *queues = NULL;
	uint32_t lifetime = DEVMEM_LIFETIME_PERSISTENT;
	uint32_t direction = DEVMEM_DIRECTION_RX;
	bool have_fd = false, have_size = false;
	char hint[160], fd_what[320] = "";
	struct devmem_binding b;
	struct blist l = {};
	unsigned int nr = 0;
	struct devmem_nl *nl;
	struct devmem_err e;
	uint64_t size = 0;
	unsigned int seen = 0;
	int fd = -1, ret;

	for (; argc > 0; NEXT_ARG()) {
		if (is_kw(argv[0], "dev")) {
			ONCE_VAL(1);
			NEXT_VAL("dev");
			if (ifname_arg("dev", argv[0], &ifindex))
				return EXIT_USAGE;
			ifname = argv[0];
		} else if (is_kw(argv[0], "queues")) {
			ONCE_VAL(2);
			NEXT_VAL("queues");
			queues_arg = argv[0];
		} else if (is_kw(argv[0], "dmabuf")) {
			ONCE_VAL(4);
			NEXT_VAL("dmabuf");
			if (is_kw(argv[0], "pid")) {
				NEXT_VAL("pid");
				if (parse_u32("pid", argv[0], 1, INT_MAX, &pid))
					return EXIT_USAGE;
				src = SRC_PID;
			} else if (is_kw(argv[0], "udmabuf")) {
				src = SRC_UDMABUF;
			} else {
				return usage_bad("dmabuf", argv[0],
						 "expected \"pid PID fd N\" or \"udmabuf size SIZE\"");
			}
		} else if (is_kw(argv[0], "fd")) {
			ONCE_VAL(8);
			NEXT_VAL("fd");
			if (parse_u32("fd", argv[0], 0, INT_MAX, &pid_fd))
				return EXIT_USAGE;
			have_fd = true;
		} else if (is_kw(argv[0], "size")) {
			ONCE_VAL(16);
			NEXT_VAL("size");
			if (parse_size("size", argv[0], &size))
				return EXIT_USAGE;
			have_size = true;
		} else if (is_kw(argv[0], "direction")) {
			ONCE_VAL(32);
			NEXT_VAL("direction");
			if (is_kw(argv[0], "rx"))
				direction = DEVMEM_DIRECTION_RX;
			else if (is_kw(argv[0], "tx"))
				direction = DEVMEM_DIRECTION_TX;
			else
				return usage_bad("direction", argv[0],
						 "expected rx or tx");
		} else if (is_kw(argv[0], "lifetime")) {
			ONCE_VAL(64);
			NEXT_VAL("lifetime");
			if (is_kw(argv[0], "socket"))
				lifetime = DEVMEM_LIFETIME_SOCKET;
			else if (is_kw(argv[0], "persistent"))
				lifetime = DEVMEM_LIFETIME_PERSISTENT;
			else
				return usage_bad("lifetime", argv[0],
						 "expected persistent or socket");
		} else if (is_help(argv[0])) {
			add_usage(stdout);
			return EXIT_OK;
		} else {
			return usage_unknown("argument", argv[0]);
		}
	}
	if (!ifname)
		return usage_error("binding add needs \"dev IFNAME\"");
	if (direction == DEVMEM_DIRECTION_TX && queues_arg)
		return usage_error("\"queues\" does not go with \"direction tx\": a tx binding has no queues");
	if (direction == DEVMEM_DIRECTION_RX && !queues_arg)
		return usage_error("binding add needs \"queues LIST\" (or \"direction tx\")");
	if (src == SRC_NONE)
		return usage_error("binding add needs \"dmabuf pid PID fd N\" or \"dmabuf udmabuf size SIZE\"");
	if (src == SRC_PID && !have_fd)
		return usage_error("\"dmabuf pid PID\" needs \"fd N\"");
	if (src == SRC_PID && have_size)
		return usage_error("\"size\" goes with \"dmabuf udmabuf\" (a process's dmabuf has its own)");
	if (src == SRC_UDMABUF && !have_size)
		return usage_error("\"dmabuf udmabuf\" needs \"size SIZE\"");
	if (src == SRC_UDMABUF && have_fd)
		return usage_error("\"fd\" goes with \"dmabuf pid PID\"");
	if (queues_arg) {
		ret = parse_queue_list("queues", queues_arg, &queues, &nr);
		if (ret)
			return ret;
	}

	nl = dm_open(&e);
	if (!nl) {
		free(queues);
		return dm_error(NULL, &e, NULL);
	}
	/* privilege first, before a dmabuf is made or taken */
	ret = blist_dump(nl, ifindex, &l, &e);
	blist_free(&l);
	if (!ret) {
		ret = src == SRC_PID ? pid_fd_take(pid, pid_fd, &fd)
				     : udmabuf_make(size, &fd);
		if (ret)
			goto out;
		if (src == SRC_PID)
			fd_describe(fd_what, sizeof(fd_what), fd, pid, pid_fd);
		struct devmem_bind_opts bo = {
			.sz = sizeof(bo), .ifindex = ifindex, .dmabuf_fd = fd,
			.direction = direction, .queues = queues,
			.nr_queues = nr, .lifetime = lifetime,
		};

		ret = devmem_bind(nl, &bo, &id, &e);
		close(fd);
	}
	if (ret) {
		ret = dm_error(NULL, &e, bind_hint(&e, ifname, direction,
						   queues_arg,
						   *fd_what ? fd_what : NULL,
						   hint, sizeof(hint)));
		goto out;
	}
	out_obj_begin();
	if (!devmem_binding_get(nl, id, &b, &e)) {
		binding_fields(&b, false);
		devmem_binding_free(&b);
	} else {
		out_u64("id", "binding %" PRIu64, id);
	}
	out_obj_end();
	if (lifetime == DEVMEM_LIFETIME_SOCKET)
		hold_until_signal();
out:
	free(queues);
	devmem_nl_close(nl);
	return ret;
}

/* ---- binding del ------------------------------------------------------------ */

static void del_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl binding del { id ID | dev IFNAME all }\n"
"       (alias: devmemctl unbind ...)\n"
"The queues go back to host memory at once; the binding is listed as\n"
"draining until the buffers in flight come back, then freed.\n");
}

static int unbind_one(struct devmem_nl *nl, uint32_t id, bool quiet_gone)
{
	const char *hint = NULL;
	char what[32];
	struct devmem_err e;

	if (!devmem_unbind(nl, id, &e))
		return 0;
	if (quiet_gone && (e.err == ENOENT || e.err == EALREADY))
		return 0;
	if (e.err == ENOENT)
		hint = "see 'devmemctl binding show'";
	else if (e.err == EALREADY)
		hint = "it is draining until its buffers in flight come back";
	else if (e.err == EPERM)
		hint = "binding del needs CAP_NET_ADMIN";
	snprintf(what, sizeof(what), "binding %u", id);
	return dm_error(what, &e, hint);
}

static int binding_del(int argc, char **argv)
{
	uint32_t id = 0, ifindex = 0;
	const char *ifname = NULL;
	struct blist l = {};
	struct devmem_nl *nl;
	struct devmem_err e;
	bool all = false;
	unsigned int i, seen = 0;
	int ret = EXIT_OK;

	for (; argc > 0; NEXT_ARG()) {
		if (is_kw(argv[0], "id")) {
			ONCE_VAL(1);
			NEXT_VAL("id");
			if (parse_u32("id", argv[0], 1, UINT32_MAX, &id))
				return EXIT_USAGE;
		} else if (is_kw(argv[0], "dev")) {
			ONCE_VAL(2);
			NEXT_VAL("dev");
			if (ifname_arg("dev", argv[0], &ifindex))
				return EXIT_USAGE;
			ifname = argv[0];
		} else if (is_kw(argv[0], "all")) {
			ONCE_FLAG(4);
			all = true;
		} else if (is_help(argv[0])) {
			del_usage(stdout);
			return EXIT_OK;
		} else {
			return usage_unknown("argument", argv[0]);
		}
	}
	if (id && ifname)
		return usage_error("\"id\" and \"dev\" exclude each other");
	if (!id && !ifname)
		return usage_error("binding del needs \"id ID\" or \"dev IFNAME all\"");
	if (ifname && !all)
		return usage_error("\"dev %s\" unbinds every binding of the device: add \"all\"",
				   ifname);
	if (id && all)
		return usage_error("\"all\" goes with \"dev IFNAME\"");

	nl = dm_open(&e);
	if (!nl)
		return dm_error(NULL, &e, NULL);
	if (id) {
		ret = unbind_one(nl, id, false);
	} else if (blist_dump(nl, ifindex, &l, &e)) {
		ret = dm_error(NULL, &e, e.err == EPERM ?
			       "binding del needs CAP_NET_ADMIN" : NULL);
	} else {
		/* draining ones are unbound already; one may drain meanwhile */
		for (i = 0; i < l.n; i++)
			if (l.v[i].state == DEVMEM_STATE_ACTIVE &&
			    unbind_one(nl, l.v[i].id, true))
				ret = EXIT_ERR;
	}
	blist_free(&l);
	devmem_nl_close(nl);
	return ret;
}

/* ---- binding show ----------------------------------------------------------- */

static void show_usage(FILE *f)
{
	fprintf(f, "Usage: devmemctl binding show [ id ID | dev IFNAME ]\n");
}

static int binding_show(int argc, char **argv)
{
	uint32_t id = 0, ifindex = 0;
	struct blist l = {};
	struct devmem_binding b;
	struct devmem_nl *nl;
	struct devmem_err e;
	char what[32];
	unsigned int i, seen = 0;
	int ret;

	for (; argc > 0; NEXT_ARG()) {
		if (is_kw(argv[0], "id")) {
			ONCE_VAL(1);
			NEXT_VAL("id");
			if (parse_u32("id", argv[0], 1, UINT32_MAX, &id))
				return EXIT_USAGE;
		} else if (is_kw(argv[0], "dev")) {
			ONCE_VAL(2);
			NEXT_VAL("dev");
			if (ifname_arg("dev", argv[0], &ifindex))
				return EXIT_USAGE;
		} else if (is_help(argv[0])) {
			show_usage(stdout);
			return EXIT_OK;
		} else {
			return usage_unknown("argument", argv[0]);
		}
	}
	if (id && ifindex)
		return usage_error("\"id\" and \"dev\" exclude each other");

	nl = dm_open(&e);
	if (!nl)
		return dm_error(NULL, &e, NULL);
	if (id) {
		ret = devmem_binding_get(nl, id, &b, &e);
		if (!ret)
			blist_add(&b, &l);
		devmem_binding_free(&b);
	} else {
		ret = blist_dump(nl, ifindex, &l, &e);
	}
	devmem_nl_close(nl);
	if (ret) {
		snprintf(what, sizeof(what), "binding %u", id);
		ret = dm_error(id ? what : NULL, &e,
			       e.err == ENOENT ? "see 'devmemctl binding show'" :
			       e.err == EPERM ? "binding show needs CAP_NET_ADMIN" : NULL);
		blist_free(&l);
		return ret;
	}
	out_list_begin("binding");
	for (i = 0; i < l.n; i++) {
		out_obj_begin();
		binding_fields(&l.v[i], false);
		out_obj_end();
	}
	out_list_end();
	blist_free(&l);
	return EXIT_OK;
}

/* ---- the object ------------------------------------------------------------- */

static void binding_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl binding add dev IFNAME [ direction rx ] queues LIST DMABUF [ LIFETIME ]\n"
"       devmemctl binding add dev IFNAME direction tx DMABUF [ LIFETIME ]\n"
"       devmemctl binding del { id ID | dev IFNAME all }\n"
"       devmemctl binding show [ id ID | dev IFNAME ]\n"
"where  DMABUF := { dmabuf pid PID fd N | dmabuf udmabuf size SIZE }\n"
"       LIFETIME := lifetime { persistent | socket }\n"
"Aliases: 'devmemctl bind' is 'binding add', 'devmemctl unbind' is 'binding del'.\n");
}

int do_binding(int argc, char **argv)
{
	/* the object alone: show (iproute2) */
	if (argc < 1)
		return binding_show(0, argv);
	if (is_help(argv[0])) {
		binding_usage(stdout);
		return EXIT_OK;
	}
	if (is_kw(argv[0], "add"))
		return binding_add(argc - 1, argv + 1);
	if (is_kw(argv[0], "del"))
		return binding_del(argc - 1, argv + 1);
	if (is_kw(argv[0], "show"))
		return binding_show(argc - 1, argv + 1);
	return usage_unknown("command", argv[0]);
}

int do_bind(int argc, char **argv)
{
	if (argc < 1)
		return usage_short(add_usage, "bind needs arguments: see 'devmemctl bind help'");
	return binding_add(argc, argv);
}

int do_unbind(int argc, char **argv)
{
	if (argc < 1)
		return usage_short(del_usage, "unbind needs arguments: see 'devmemctl unbind help'");
	return binding_del(argc, argv);
}
