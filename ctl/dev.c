// SPDX-License-Identifier: GPL-2.0
/*
 * devmemctl dev: make a device ready for devmem TCP and show how ready it
 * is, through ethtool's kernel interfaces (what ncdevmem does by running
 * ethtool):
 *  - header split: ethtool netlink rings-set tcp-data-split enabled;
 *  - ntuple filters: ethtool netlink features-set, rx-ntuple-filter by name;
 *  - an RSS indirection table over the queues that are not devmem queues,
 *    so that only flows steered by ntuple rules land in device memory:
 *    ETHTOOL_SRXFHINDIR (ethtool netlink cannot set RSS in 6.12).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/devmem.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/sockios.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "devmemctl.h"

#define NTUPLE_FEATURE	"rx-ntuple-filter"

/* ---- ethtool ioctls (RSS) ----------------------------------------------------- */

/* the ioctl's result (>= 0) or -errno */
static int rx_rings(const char *ifname, uint32_t *n)
{
	struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_GRXRINGS };
	int ret = eth_ioctl(ifname, &nfc);

	*n = nfc.data;
	return ret < 0 ? ret : 0;
}

/* the RSS indirection table; *size 0 and NULL if the device has none */
static int rss_get(const char *ifname, uint32_t **table, uint32_t *size)
{
	struct ethtool_rxfh_indir head = { .cmd = ETHTOOL_GRXFHINDIR };
	struct ethtool_rxfh_indir *t;
	int ret;

	*table = NULL;
	*size = 0;
	ret = eth_ioctl(ifname, &head);
	if (ret < 0 || !head.size)
		return ret < 0 ? ret : 0;
	t = calloc(1, sizeof(*t) + head.size * sizeof(t->ring_index[0]));
	if (!t)
		return -ENOMEM;
	t->cmd = ETHTOOL_GRXFHINDIR;
	t->size = head.size;
	ret = eth_ioctl(ifname, t);
	if (ret >= 0) {
		*table = malloc(head.size * sizeof(**table));
		if (*table) {
			memcpy(*table, t->ring_index, head.size * sizeof(**table));
			*size = head.size;
		}
		ret = *table ? 0 : -ENOMEM;
	}
	free(t);
	return ret;
}

/* spread the table over @q, like 'ethtool -X IFNAME equal N' over 0..N-1 */
static int rss_set(const char *ifname, const uint32_t *q, unsigned int n)
{
	struct ethtool_rxfh_indir *t;
	uint32_t *old, size, i;
	int ret;

	ret = rss_get(ifname, &old, &size);
	free(old);
	if (ret < 0)
		return ret;
	if (!size)
		return -EOPNOTSUPP;
	t = calloc(1, sizeof(*t) + size * sizeof(t->ring_index[0]));
	if (!t)
		return -ENOMEM;
	t->cmd = ETHTOOL_SRXFHINDIR;
	t->size = size;
	for (i = 0; i < size; i++)
		t->ring_index[i] = q[i % n];
	ret = eth_ioctl(ifname, t);
	free(t);
	return ret < 0 ? ret : 0;
}

/* ---- ethtool netlink: header split and features -------------------------------- */

struct eth_req {
	const char *ifname;
	int header_attr;
	uint32_t flags;
};

static int put_header(struct nl_msg *msg, const struct eth_req *r)
{
	struct nlattr *nest = nla_nest_start(msg, r->header_attr);

	if (!nest || nla_put_string(msg, ETHTOOL_A_HEADER_DEV_NAME, r->ifname) ||
	    (r->flags && nla_put_u32(msg, ETHTOOL_A_HEADER_FLAGS, r->flags)))
		return -1;
	nla_nest_end(msg, nest);
	return 0;
}

static int put_only_header(struct nl_msg *msg, void *arg)
{
	return put_header(msg, arg);
}

static int put_hds_on(struct nl_msg *msg, void *arg)
{
	if (put_header(msg, arg))
		return -1;
	return nla_put_u8(msg, ETHTOOL_A_RINGS_TCP_DATA_SPLIT,
			  ETHTOOL_TCP_DATA_SPLIT_ENABLED);
}

/* WANTED: the one named bit, set; the other features stay as they are */
static int put_ntuple_on(struct nl_msg *msg, void *arg)
{
	struct nlattr *wanted, *bits, *bit;

	if (put_header(msg, arg))
		return -1;
	wanted = nla_nest_start(msg, ETHTOOL_A_FEATURES_WANTED);
	bits = wanted ? nla_nest_start(msg, ETHTOOL_A_BITSET_BITS) : NULL;
	bit = bits ? nla_nest_start(msg, ETHTOOL_A_BITSET_BITS_BIT) : NULL;
	if (!bit || nla_put_string(msg, ETHTOOL_A_BITSET_BIT_NAME, NTUPLE_FEATURE) ||
	    nla_put_flag(msg, ETHTOOL_A_BITSET_BIT_VALUE))
		return -1;
	nla_nest_end(msg, bit);
	nla_nest_end(msg, bits);
	nla_nest_end(msg, wanted);
	return 0;
}

static void hds_cb(struct nlattr *attrs, int len, void *arg)
{
	struct nlattr *a = nla_find(attrs, len, ETHTOOL_A_RINGS_TCP_DATA_SPLIT);

	if (a)
		*(uint8_t *)arg = nla_get_u8(a);
}

/* is bit NAME set in a verbose bitset? (a NOMASK bitset lists set bits) */
static bool bitset_has(struct nlattr *set, const char *name)
{
	bool list = nla_find(nla_data(set), nla_len(set), ETHTOOL_A_BITSET_NOMASK);
	struct nlattr *bits = nla_find(nla_data(set), nla_len(set),
				       ETHTOOL_A_BITSET_BITS);
	struct nlattr *bit, *a;
	int rem;

	if (!bits)
		return false;
	nla_for_each_nested(bit, bits, rem) {
		a = nla_find(nla_data(bit), nla_len(bit), ETHTOOL_A_BITSET_BIT_NAME);
		if (!a || strncmp(nla_data(a), name, nla_len(a)))
			continue;
		return list || nla_find(nla_data(bit), nla_len(bit),
					ETHTOOL_A_BITSET_BIT_VALUE);
	}
	return false;
}

struct ntuple_state {
	bool changeable, on;
};

static void features_cb(struct nlattr *attrs, int len, void *arg)
{
	struct nlattr *hw = nla_find(attrs, len, ETHTOOL_A_FEATURES_HW);
	struct nlattr *active = nla_find(attrs, len, ETHTOOL_A_FEATURES_ACTIVE);
	struct ntuple_state *s = arg;

	s->changeable = hw && bitset_has(hw, NTUPLE_FEATURE);
	s->on = active && bitset_has(active, NTUPLE_FEATURE);
}

static int hds_get(struct devmem_nl *eth, const char *ifname, uint8_t *hds,
		   struct devmem_err *e)
{
	struct eth_req r = { ifname, ETHTOOL_A_RINGS_HEADER, 0 };

	*hds = ETHTOOL_TCP_DATA_SPLIT_UNKNOWN;
	return devmem_genl_request(eth, ETHTOOL_MSG_RINGS_GET, ETHTOOL_GENL_VERSION, 0, put_only_header, &r,
			    hds_cb, hds, e);
}

static int ntuple_get(struct devmem_nl *eth, const char *ifname,
		      struct ntuple_state *s, struct devmem_err *e)
{
	struct eth_req r = { ifname, ETHTOOL_A_FEATURES_HEADER, 0 };

	memset(s, 0, sizeof(*s));
	return devmem_genl_request(eth, ETHTOOL_MSG_FEATURES_GET, ETHTOOL_GENL_VERSION, 0, put_only_header,
			    &r, features_cb, s, e);
}

static const char *hds_name(uint8_t hds)
{
	return hds == ETHTOOL_TCP_DATA_SPLIT_ENABLED ? "on" :
	       hds == ETHTOOL_TCP_DATA_SPLIT_DISABLED ? "off" : "unknown";
}

/* ---- dev setup -------------------------------------------------------------- */

static void setup_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl dev setup IFNAME devmem-queues LIST\n"
"Turns header split (tcp-data-split) and ntuple filters on and spreads\n"
"the RSS indirection table over the rx queues not in LIST, so that only\n"
"flows steered by ntuple rules reach the devmem queues.\n");
}

static int eth_error(const char *what, int err, const char *hint)
{
	struct devmem_err e = { .err = err };

	return dm_error(what, &e, hint);
}

static int dev_setup(int argc, char **argv)
{
	const char *ifname, *list = NULL;
	uint32_t ifindex, *dq = NULL, *rss = NULL, nrings, i, j;
	unsigned int nr_dq = 0, nr_rss = 0;
	struct ntuple_state nt;
	struct devmem_nl *eth = NULL;
	struct eth_req r;
	struct devmem_err e;
	char what[64];
	unsigned int seen = 0;
	int ret;

	if (argc < 1)
		return usage_short(setup_usage, "dev setup needs IFNAME");
	if (is_help(argv[0])) {
		setup_usage(stdout);
		return EXIT_OK;
	}
	if (ifname_arg("dev", argv[0], &ifindex))
		return EXIT_USAGE;
	ifname = argv[0];
	for (NEXT_ARG(); argc > 0; NEXT_ARG()) {
		if (is_kw(argv[0], "devmem-queues")) {
			ONCE_VAL(1);
			NEXT_VAL("devmem-queues");
			list = argv[0];
		} else if (is_help(argv[0])) {
			setup_usage(stdout);
			return EXIT_OK;
		} else {
			return usage_unknown("argument", argv[0]);
		}
	}
	if (!list)
		return usage_error("dev setup needs \"devmem-queues LIST\"");
	ret = parse_queue_list("devmem-queues", list, &dq, &nr_dq);
	if (ret)
		return ret;

	ret = rx_rings(ifname, &nrings);
	if (ret) {
		ret = eth_error("rx queues (ETHTOOL_GRXRINGS)", -ret,
				"the device has no RSS");
		goto out;
	}
	for (i = 0; i < nr_dq; i++)
		if (dq[i] >= nrings) {
			ret = error("devmem queue %u is out of range: %s has %u rx queues",
				    dq[i], ifname, nrings);
			goto out;
		}
	rss = malloc(nrings * sizeof(*rss));
	if (!rss) {
		ret = error("out of memory");
		goto out;
	}
	for (i = j = 0; i < nrings; i++) {
		while (j < nr_dq && dq[j] < i)
			j++;
		if (j == nr_dq || dq[j] != i)
			rss[nr_rss++] = i;
	}
	if (!nr_rss) {
		ret = error("devmem-queues %s leave RSS no queue: %s has %u rx queues",
			    list, ifname, nrings);
		goto out;
	}

	eth = genl_open(ETHTOOL_GENL_NAME, &e);
	if (!eth) {
		ret = dm_error(NULL, &e, NULL);
		goto out;
	}
	r = (struct eth_req){ ifname, ETHTOOL_A_RINGS_HEADER, 0 };
	if (devmem_genl_request(eth, ETHTOOL_MSG_RINGS_SET, ETHTOOL_GENL_VERSION, 0, put_hds_on, &r,
			 NULL, NULL, &e)) {
		ret = dm_error("tcp-data-split", &e, e.err == EPERM ?
			       "dev setup needs CAP_NET_ADMIN" : NULL);
		goto out;
	}
	r = (struct eth_req){ ifname, ETHTOOL_A_FEATURES_HEADER,
			      ETHTOOL_FLAG_OMIT_REPLY };
	if (devmem_genl_request(eth, ETHTOOL_MSG_FEATURES_SET, ETHTOOL_GENL_VERSION, 0, put_ntuple_on, &r,
			 NULL, NULL, &e) ||
	    ntuple_get(eth, ifname, &nt, &e)) {
		ret = dm_error("ntuple", &e, e.err == EPERM ?
			       "dev setup needs CAP_NET_ADMIN" : NULL);
		goto out;
	}
	if (!nt.on) {
		ret = error("%s cannot turn ntuple filters on (%s is %s)", ifname,
			    NTUPLE_FEATURE, nt.changeable ? "refused" : "fixed off");
		goto out;
	}
	ret = rss_set(ifname, rss, nr_rss);
	if (ret) {
		snprintf(what, sizeof(what), "RSS table of %s", ifname);
		ret = eth_error(what, -ret, ret == -EPERM ?
				"dev setup needs CAP_NET_ADMIN" : NULL);
		goto out;
	}
	ret = EXIT_OK;
out:
	devmem_nl_close(eth);
	free(dq);
	free(rss);
	return ret;
}

/* ---- dev show --------------------------------------------------------------- */

#define QBITS	((MAX_QUEUE_ID + 8) / 8)

static void qbit_set(uint8_t *bits, uint32_t q)
{
	if (q <= MAX_QUEUE_ID)
		bits[q / 8] |= 1 << (q % 8);
}

/* the queues of a bitmap, sorted */
static unsigned int qbits_list(const uint8_t *bits, uint32_t *q)
{
	unsigned int i, n = 0;

	for (i = 0; i <= MAX_QUEUE_ID; i++)
		if (bits[i / 8] & (1 << (i % 8)))
			q[n++] = i;
	return n;
}

struct dev_bindings {
	uint8_t bound[QBITS];
	struct {
		uint32_t id, state, direction;
		uint32_t *queues;
		unsigned int nr_queues;
	} *v;
	unsigned int n;
};

static void collect_binding(const struct devmem_binding *b, void *arg)
{
	struct dev_bindings *d = arg;
	unsigned int i;
	void *v = realloc(d->v, (d->n + 1) * sizeof(*d->v));
	uint32_t *q = malloc((b->nr_queues ?: 1) * sizeof(*q));

	if (!v || !q) {
		free(q);
		if (v)
			d->v = v;
		return;
	}
	d->v = v;
	if (b->nr_queues)	/* a tx binding's queues are NULL */
		memcpy(q, b->queues, b->nr_queues * sizeof(*q));
	d->v[d->n].id = b->id;
	d->v[d->n].state = b->state;
	d->v[d->n].direction = b->direction;
	d->v[d->n].queues = q;
	d->v[d->n++].nr_queues = b->nr_queues;
	/* a draining binding's queues run on host memory again */
	for (i = 0; b->state == DEVMEM_STATE_ACTIVE && i < b->nr_queues; i++)
		qbit_set(d->bound, b->queues[i]);
}

static void show_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl dev show IFNAME\n"
"Header split, ntuple filters, rx queues, the queues in the RSS table and\n"
"the queues bound to dmabufs, with their bindings.\n");
}

static int dev_show(int argc, char **argv)
{
	uint32_t ifindex, nrings = 0, *table, size, i;
	uint32_t list[MAX_QUEUE_ID + 1];
	uint8_t in_rss[QBITS] = {};
	struct dev_bindings *d = NULL;
	struct devmem_nl *eth = NULL, *nl = NULL;
	struct ntuple_state nt = {};
	const char *ifname;
	struct devmem_err e;
	bool nt_ok, rings_ok, rss_ok;
	uint8_t hds = 0;
	int ret;

	if (argc < 1)
		return usage_short(show_usage, "dev show needs IFNAME");
	if (is_help(argv[0])) {
		show_usage(stdout);
		return EXIT_OK;
	}
	if (ifname_arg("dev", argv[0], &ifindex))
		return EXIT_USAGE;
	ifname = argv[0];
	if (argc > 1)
		return is_help(argv[1]) ? (show_usage(stdout), EXIT_OK)
					: usage_unknown("argument", argv[1]);

	eth = genl_open(ETHTOOL_GENL_NAME, &e);
	nl = eth ? dm_open(&e) : NULL;
	d = calloc(1, sizeof(*d));
	if (!nl || !d) {
		ret = d ? dm_error(NULL, &e, NULL) : error("out of memory");
		goto out;
	}
	if (devmem_binding_dump(nl, ifindex, collect_binding, d, &e)) {
		ret = dm_error("bindings", &e, e.err == EPERM ?
			       "dev show lists bindings, which needs CAP_NET_ADMIN" : NULL);
		goto out;
	}
	/* what the device cannot tell is unknown: "unknown" in text,
	 * left out of JSON (ntuple and tcp-data-split: "unknown" in both)
	 */
	hds_get(eth, ifname, &hds, &e);
	nt_ok = !ntuple_get(eth, ifname, &nt, &e);
	rings_ok = !rx_rings(ifname, &nrings);
	rss_ok = !rss_get(ifname, &table, &size);
	if (rss_ok) {
		for (i = 0; i < size; i++)
			qbit_set(in_rss, table[i]);
		free(table);
	}

	out_doc_begin();
	out_obj_begin();
	out_str("dev", "dev %s", ifname);
	out_u64("ifindex", "ifindex %" PRIu64, ifindex);
	if (rings_ok)
		out_u64("rx-queues", "rx-queues %" PRIu64, nrings);
	else if (!json_out)
		out_str("rx-queues", "rx-queues %s", "unknown");
	out_str("tcp-data-split", "tcp-data-split %s", hds_name(hds));
	out_str("ntuple", "ntuple %s", !nt_ok ? "unknown" : nt.on ? "on" : "off");
	if (rss_ok)
		out_queues("rss-queues", "rss-queues", list, qbits_list(in_rss, list));
	else if (!json_out)
		out_str("rss-queues", "rss-queues %s", "unknown");
	out_queues("bound-queues", "bound-queues", list,
		   qbits_list(d->bound, list));
	out_obj_end();
	out_list_begin("binding");
	for (i = 0; i < d->n; i++) {
		out_obj_begin();
		out_u64("id", "binding %" PRIu64, d->v[i].id);
		/* a tx binding has no queues: it sends from the device */
		if (d->v[i].direction == DEVMEM_DIRECTION_TX)
			out_str("direction", "direction %s", "tx");
		else
			out_queues("queues", "queues", d->v[i].queues,
				   d->v[i].nr_queues);
		out_str("state", "state %s", d->v[i].state == DEVMEM_STATE_ACTIVE ?
			"active" : "draining");
		out_obj_end();
	}
	out_list_end();
	out_doc_end();
	ret = EXIT_OK;
out:
	if (d) {
		for (i = 0; i < d->n; i++)
			free(d->v[i].queues);
		free(d->v);
		free(d);
	}
	devmem_nl_close(nl);
	devmem_nl_close(eth);
	return ret;
}

/* ---- the object ------------------------------------------------------------- */

static void dev_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl dev setup IFNAME devmem-queues LIST\n"
"       devmemctl dev show IFNAME\n"
"where  LIST := queue ids and ranges, like 2, 2-3 or 1,4-5\n");
}

int do_dev(int argc, char **argv)
{
	if (argc < 1)
		return usage_short(dev_usage, "dev needs a command: see 'devmemctl dev help'");
	if (is_help(argv[0])) {
		dev_usage(stdout);
		return EXIT_OK;
	}
	if (is_kw(argv[0], "setup"))
		return dev_setup(argc - 1, argv + 1);
	if (is_kw(argv[0], "show"))
		return dev_show(argc - 1, argv + 1);
	return usage_unknown("command", argv[0]);
}
