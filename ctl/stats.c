// SPDX-License-Identifier: GPL-2.0
/*
 * devmemctl stats: the kernel's per-binding counters (the devmem family's
 * stats-get) and the BPF accounting programs (devmem_acct.bpf.c): attach,
 * detach, their per-binding and per-queue counters, and the sockets that
 * met device memory without MSG_SOCK_DEVMEM (misrouted flows).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <linux/devmem.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "devmemctl.h"
#include "devmem_bpf.h"
#include "devmem_acct.skel.h"

static const char * const acct_maps[] = {
	"acct_queue", "acct_binding", "acct_socket", "acct_efault",
};

/* the accounting programs, each pinned as links/NAME */
#define ACCT_PROGS(X) \
	X(acct_rx_skb) X(acct_recvmsg) X(acct_tok_release) \
	X(acct_rcv_efault) X(acct_alloc_fail)

#define ACCT_NAME(p) #p,
static const char * const acct_links[] = { ACCT_PROGS(ACCT_NAME) };

static bool acct_attached(void)
{
	return !access(pin_path(acct_links[0], true), F_OK);
}

static int acct_not_attached(void)
{
	return error("accounting is not attached; run 'devmemctl stats attach'");
}

static void acct_unpin(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(acct_links); i++)
		unlink(pin_path(acct_links[i], true));
	for (i = 0; i < ARRAY_SIZE(acct_maps); i++)
		unlink(pin_path(acct_maps[i], false));
	pin_dirs_remove();
}

static int stats_attach(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = bpffs_dir());
	struct bpf_program *progs[ARRAY_SIZE(acct_links)];
	struct devmem_acct *skel;
	unsigned int i;
	int ret;

	if (argc > 0)
		return is_help(argv[0]) ? printf("Usage: devmemctl stats attach\n"), EXIT_OK
					: usage_unknown("argument", argv[0]);
	if (acct_attached())
		return error("accounting is already attached (%s)", bpffs_dir());
	ret = pin_dirs_make();
	if (ret)
		return error("cannot make %s: %s (is bpffs mounted on /sys/fs/bpf?)",
			     bpffs_dir(), strerror(-ret));
	skel = devmem_acct__open_opts(&opts);
	if (!skel)
		return error("cannot open the accounting BPF object: %s",
			     strerror(errno));
	ret = devmem_acct__load(skel);
	if (ret) {
		devmem_acct__destroy(skel);
		acct_unpin();
		return error("cannot load the accounting BPF programs: %s",
			     strerror(-ret));
	}
#define ACCT_PROG(p) skel->progs.p,
	{
		struct bpf_program *p[] = { ACCT_PROGS(ACCT_PROG) };

		memcpy(progs, p, sizeof(progs));
	}
	for (i = 0; i < ARRAY_SIZE(progs); i++) {
		struct bpf_link *link = bpf_program__attach(progs[i]);

		if (!link) {
			ret = error("cannot attach %s: %s", acct_links[i],
				    strerror(errno));
			break;
		}
		ret = bpf_link__pin(link, pin_path(acct_links[i], true));
		bpf_link__destroy(link);
		if (ret) {
			ret = error("cannot pin %s: %s",
				    pin_path(acct_links[i], true), strerror(-ret));
			break;
		}
	}
	devmem_acct__destroy(skel);
	if (ret)
		acct_unpin();
	return ret ? EXIT_ERR : EXIT_OK;
}

static int stats_detach(int argc, char **argv)
{
	if (argc > 0)
		return is_help(argv[0]) ? printf("Usage: devmemctl stats detach\n"), EXIT_OK
					: usage_unknown("argument", argv[0]);
	if (!acct_attached())
		return acct_not_attached();
	acct_unpin();
	return EXIT_OK;
}

/* ---- the kernel's counters ---- */

static const char * const stat_names[] = {
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

static void dev_field(uint32_t ifindex)
{
	char ifname[IF_NAMESIZE];

	if (if_indextoname(ifindex, ifname))
		out_str("dev", "dev %s", ifname);
	out_u64("ifindex", "ifindex %" PRIu64, ifindex);
}

static void kstats_print(const struct devmem_stats *s, void *arg)
{
	char fmt[64];
	unsigned int t;

	out_obj_begin();
	out_u64("id", "binding %" PRIu64, s->v[DEVMEM_A_STATS_ID]);
	dev_field(s->v[DEVMEM_A_STATS_IFINDEX]);
	for (t = 0; t < ARRAY_SIZE(stat_names); t++) {
		if (!stat_names[t] || !(s->present & (1ULL << t)))
			continue;
		snprintf(fmt, sizeof(fmt), "%s %%" PRIu64, stat_names[t]);
		out_u64(stat_names[t], fmt, s->v[t]);
	}
	out_obj_end();
}

static int ifindex_arg(const char *name, uint32_t *ifindex)
{
	*ifindex = if_nametoindex(name);
	if (!*ifindex)
		return usage_bad("dev", name, "no such device");
	return 0;
}

/* @watch: NULL where "-w SECONDS" is not an argument; -1 for help */
static int parse_selector(int argc, char **argv, uint32_t *id,
			  uint32_t *ifindex, uint32_t *watch)
{
	unsigned int seen = 0;

	*id = *ifindex = 0;
	for (; argc > 0; NEXT_ARG()) {
		if (watch && is_kw(argv[0], "-w")) {
			ONCE_VAL(1);
			NEXT_VAL("-w");
			if (parse_u32("-w", argv[0], 1, 86400, watch))
				return EXIT_USAGE;
		} else if (is_help(argv[0])) {
			return -1;	/* the caller prints its usage */
		} else if (is_kw(argv[0], "binding")) {
			ONCE_VAL(2);
			NEXT_VAL("binding");
			if (parse_u32("binding", argv[0], 1, UINT32_MAX, id))
				return EXIT_USAGE;
		} else if (is_kw(argv[0], "dev")) {
			ONCE_VAL(4);
			NEXT_VAL("dev");
			if (ifindex_arg(argv[0], ifindex))
				return EXIT_USAGE;
		} else {
			return usage_unknown("argument", argv[0]);
		}
	}
	return 0;
}

/* ---- watch: rates per second ---- */

struct sample {
	struct devmem_stats *v;
	unsigned int n;
};

/* (a binding that finds no memory is left out of this sample) */
static void sample_add(const struct devmem_stats *s, void *arg)
{
	struct sample *smp = arg;
	struct devmem_stats *v = realloc(smp->v, (smp->n + 1) * sizeof(*v));

	if (!v)
		return;
	smp->v = v;
	v[smp->n++] = *s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* niovs-* are levels, the other counters become rates */
static bool stat_is_level(unsigned int t)
{
	return t == DEVMEM_A_STATS_NIOVS_TOTAL || t == DEVMEM_A_STATS_NIOVS_FREE ||
	       t == DEVMEM_A_STATS_NIOVS_USER;
}

/* per second: a rounded number in JSON, "12.5MiB/s" or "300.0/s" in text */
static void out_rate(const char *key, double rate, bool bytes)
{
	static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	char fmt[64], val[32];
	unsigned int u = 0;

	if (json_out) {
		out_u64(key, "%" PRIu64, (uint64_t)(rate + 0.5));
		return;
	}
	while (bytes && rate >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		rate /= 1024;
		u++;
	}
	snprintf(val, sizeof(val), "%.1f%s/s", rate, bytes ? units[u] : "");
	snprintf(fmt, sizeof(fmt), "%s %%s", key);
	out_str(key, fmt, val);
}

static void rate_print(const struct devmem_stats *cur, const struct sample *prev,
		       double dt)
{
	const struct devmem_stats *p = NULL;
	char fmt[64];
	unsigned int t, i;
	uint64_t before;

	for (i = 0; i < prev->n && !p; i++)
		if (prev->v[i].v[DEVMEM_A_STATS_ID] == cur->v[DEVMEM_A_STATS_ID])
			p = &prev->v[i];
	out_obj_begin();
	out_u64("id", "binding %" PRIu64, cur->v[DEVMEM_A_STATS_ID]);
	dev_field(cur->v[DEVMEM_A_STATS_IFINDEX]);
	for (t = 0; t < ARRAY_SIZE(stat_names); t++) {
		if (!stat_names[t] || !(cur->present & (1ULL << t)))
			continue;
		if (stat_is_level(t)) {
			snprintf(fmt, sizeof(fmt), "%s %%" PRIu64, stat_names[t]);
			out_u64(stat_names[t], fmt, cur->v[t]);
			continue;
		}
		/* a binding made during the interval counted from zero */
		before = p && p->v[t] <= cur->v[t] ? p->v[t] : 0;
		out_rate(stat_names[t], (cur->v[t] - before) / dt,
			 t == DEVMEM_A_STATS_RX_BYTES ||
			 t == DEVMEM_A_STATS_RX_LINEAR_BYTES ||
			 t == DEVMEM_A_STATS_TX_BYTES);
	}
	out_obj_end();
}

/* every @secs: the counters' rates since the last sample, until SIGINT or
 * SIGTERM; text redraws the screen on a terminal
 */
static int stats_watch(struct devmem_nl *nl, uint32_t id, uint32_t ifindex,
		       uint32_t secs)
{
	struct sample prev = {}, cur;
	struct pollfd pfd = { .events = POLLIN };
	double t_prev, t;
	struct devmem_err e;
	sigset_t sigs, old;
	unsigned int i;
	int ret;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	pfd.fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (pfd.fd < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return error("signalfd: %s", strerror(errno));
	}
	t_prev = now_s();
	if (devmem_stats_get(nl, id, ifindex, sample_add, &prev, &e))
		goto fail;
	for (;;) {
		/* asked to stop: the signals stay blocked, as one sent
		 * twice (timeout(1) signals the child and its group) would
		 * kill us once unblocked
		 */
		if (poll(&pfd, 1, secs * 1000) > 0) {
			free(prev.v);
			close(pfd.fd);
			return EXIT_OK;
		}
		cur = (struct sample){};
		t = now_s();
		if (devmem_stats_get(nl, id, ifindex, sample_add, &cur, &e)) {
			free(cur.v);
			goto fail;
		}
		if (!json_out && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		out_doc_begin();
		out_obj_begin();
		out_u64("interval-ms", "every %" PRIu64 " ms, per second:",
			(uint64_t)((t - t_prev) * 1000 + 0.5));
		out_obj_end();
		out_list_begin("stats");
		for (i = 0; i < cur.n; i++)
			rate_print(&cur.v[i], &prev, t - t_prev);
		out_list_end();
		out_doc_end();
		free(prev.v);
		prev = cur;
		t_prev = t;
	}
fail:
	ret = dm_error(id ? "binding" : NULL, &e, "see 'devmemctl binding show'");
	free(prev.v);
	close(pfd.fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static int stats_show(int argc, char **argv)
{
	uint32_t id, ifindex, watch = 0;
	struct sample smp = {};
	struct devmem_nl *nl;
	struct devmem_err e;
	unsigned int i;
	int ret;

	ret = parse_selector(argc, argv, &id, &ifindex, &watch);
	if (ret < 0) {
		printf("Usage: devmemctl stats show [ binding ID | dev IFNAME ] [ -w SECONDS ]\n");
		return EXIT_OK;
	}
	if (ret)
		return ret;
	nl = dm_open(&e);
	if (!nl)
		return dm_error(NULL, &e, NULL);
	if (watch) {
		ret = stats_watch(nl, id, ifindex, watch);
		devmem_nl_close(nl);
		return ret;
	}
	/* all of it or an error: one document either way */
	ret = devmem_stats_get(nl, id, ifindex, sample_add, &smp, &e);
	devmem_nl_close(nl);
	if (ret) {
		free(smp.v);
		return dm_error(id ? "binding" : NULL, &e,
				"see 'devmemctl binding show'");
	}
	out_list_begin("stats");
	for (i = 0; i < smp.n; i++)
		kstats_print(&smp.v[i], NULL);
	out_list_end();
	free(smp.v);
	return EXIT_OK;
}

/* ---- BPF accounting ---- */

#define FIELD(s, f, key)	out_u64(key, key " %" PRIu64, (s)->f)

static void acct_binding_print(uint32_t id, const struct devmem_binding_stats *s)
{
	out_obj_begin();
	out_u64("id", "binding %" PRIu64, id);
	FIELD(s, unreadable_skbs, "unreadable-skbs");
	FIELD(s, unreadable_frags, "unreadable-frags");
	FIELD(s, unreadable_bytes, "unreadable-bytes");
	FIELD(s, recvmsg_calls, "recvmsg-calls");
	FIELD(s, recvmsg_frags, "recvmsg-frags");
	FIELD(s, recvmsg_bytes, "recvmsg-bytes");
	FIELD(s, recvmsg_linear, "recvmsg-linear-bytes");
	FIELD(s, tokens_released, "tokens-released");
	/* attached mid-flow, tokens handed out before are released after:
	 * the difference is a lower bound, never below zero
	 */
	out_u64("tokens-outstanding", "tokens-outstanding %" PRIu64,
		s->recvmsg_frags > s->tokens_released ?
		s->recvmsg_frags - s->tokens_released : 0);
	FIELD(s, efault, "efault");
	FIELD(s, alloc_fail, "alloc-fail");
	out_obj_end();
}

static void acct_queue_print(const struct devmem_queue_key *k,
			     const struct devmem_queue_stats *s)
{
	char ifname[IF_NAMESIZE];

	out_obj_begin();
	out_str("dev", "queue dev %s",
		if_indextoname(k->ifindex, ifname) ? ifname : "?");
	out_u64("ifindex", "ifindex %" PRIu64, k->ifindex);
	out_u64("queue", "queue %" PRIu64, k->queue);
	FIELD(s, unreadable_skbs, "unreadable-skbs");
	FIELD(s, unreadable_frags, "unreadable-frags");
	FIELD(s, unreadable_bytes, "unreadable-bytes");
	FIELD(s, alloc_fail, "alloc-fail");
	out_obj_end();
}

static int stats_bpf(int argc, char **argv)
{
	struct devmem_queue_key qk, qcur, *qprev = NULL;
	struct devmem_binding_stats bs;
	struct devmem_queue_stats qs;
	uint32_t id, ifindex, bk, bcur, *bprev = NULL;
	int bfd, qfd, ret;

	ret = parse_selector(argc, argv, &id, &ifindex, NULL);
	if (ret < 0) {
		printf("Usage: devmemctl stats bpf [ binding ID | dev IFNAME ]\n");
		return EXIT_OK;
	}
	if (ret)
		return ret;
	if (!acct_attached())
		return acct_not_attached();
	bfd = pinned_map_fd("acct_binding");
	qfd = pinned_map_fd("acct_queue");
	if (bfd < 0 || qfd < 0)
		return acct_not_attached();

	out_doc_begin();
	out_list_begin("binding");
	while (!ifindex && !bpf_map_get_next_key(bfd, bprev, &bk)) {
		bcur = bk;
		bprev = &bcur;
		if ((!id || id == bk) && !bpf_map_lookup_elem(bfd, &bk, &bs))
			acct_binding_print(bk, &bs);
	}
	out_list_end();
	out_list_begin("queue");
	while (!id && !bpf_map_get_next_key(qfd, qprev, &qk)) {
		qcur = qk;
		qprev = &qcur;
		if ((!ifindex || ifindex == qk.ifindex) &&
		    !bpf_map_lookup_elem(qfd, &qk, &qs))
			acct_queue_print(&qk, &qs);
	}
	out_list_end();
	out_doc_end();
	close(bfd);
	close(qfd);
	return EXIT_OK;
}

static int stats_misrouted(int argc, char **argv)
{
	char a[INET6_ADDRSTRLEN], ep[INET6_ADDRSTRLEN + 16];
	uint64_t k, cur, *prev = NULL, self = netns_cookie_self();
	struct devmem_efault e;
	int fd;

	if (argc > 0)
		return is_help(argv[0]) ? printf("Usage: devmemctl stats misrouted\n"), EXIT_OK
					: usage_unknown("argument", argv[0]);
	if (!acct_attached())
		return acct_not_attached();
	fd = pinned_map_fd("acct_efault");
	if (fd < 0)
		return acct_not_attached();
	out_list_begin("misrouted");
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		int fam;

		cur = k;
		prev = &cur;
		if (bpf_map_lookup_elem(fd, &k, &e) || e.netns_cookie != self)
			continue;
		fam = e.family == AF_INET6 ? AF_INET6 : AF_INET;
		out_obj_begin();
		out_u64("cookie", "socket %" PRIu64, k);
		fmt_addr(a, sizeof(a), fam, e.laddr);
		snprintf(ep, sizeof(ep), fam == AF_INET6 ? "[%s]:%u" : "%s:%u",
			 a, e.lport);
		out_str("local", "local %s", ep);
		fmt_addr(a, sizeof(a), fam, e.raddr);
		snprintf(ep, sizeof(ep), fam == AF_INET6 ? "[%s]:%u" : "%s:%u",
			 a, e.rport);
		out_str("remote", "remote %s", ep);
		out_u64("binding", "binding %" PRIu64, e.binding_id);
		out_u64("efault", "efault %" PRIu64, e.count);
		out_u64("pid", "pid %" PRIu64, e.pid);
		e.comm[sizeof(e.comm) - 1] = '\0';
		out_str("comm", "comm %s", e.comm);
		out_obj_end();
	}
	out_list_end();
	close(fd);
	return EXIT_OK;
}

static void stats_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl stats show [ binding ID | dev IFNAME ] [ -w SECONDS ]\n"
"       devmemctl stats bpf [ binding ID | dev IFNAME ]\n"
"       devmemctl stats misrouted\n"
"       devmemctl stats { attach | detach }\n"
"show: the kernel's counters per binding (-w: their rates, every SECONDS);\n"
"bpf, misrouted: what the BPF\n"
"accounting programs counted since 'stats attach' (maps pinned in %s).\n",
		bpffs_dir());
}

int do_stats(int argc, char **argv)
{
	/* the object alone: show */
	if (argc < 1)
		return stats_show(0, argv);
	if (is_help(argv[0])) {
		stats_usage(stdout);
		return EXIT_OK;
	}
	if (is_kw(argv[0], "show"))
		return stats_show(argc - 1, argv + 1);
	if (is_kw(argv[0], "bpf"))
		return stats_bpf(argc - 1, argv + 1);
	if (is_kw(argv[0], "misrouted"))
		return stats_misrouted(argc - 1, argv + 1);
	if (is_kw(argv[0], "attach"))
		return stats_attach(argc - 1, argv + 1);
	if (is_kw(argv[0], "detach"))
		return stats_detach(argc - 1, argv + 1);
	return usage_unknown("command", argv[0]);
}
