// SPDX-License-Identifier: GPL-2.0
/*
 * devmemctl steer: the BPF steering policy and its agent.
 *
 * 'steer attach' loads devmem_steer.bpf.o, pins its maps under the bpffs
 * directory and its cgroup sock_ops link under links/, and runs the agent.
 * The agent owns the ntuple rules that put devmem flows on their binding's
 * queues: it wants one rule per distinct match among the live flows in
 * steer_flows (listeners and accepted flows: dst port; connects: 4-tuple)
 * whose policy entry still names an active rx binding of this netns, and
 * makes the device's rules agree: it adds what is missing, deletes what it
 * made that is no longer wanted. Ring buffer events, binding notifications,
 * SIGHUP (sent by 'steer policy add/del') and a 2 s timer all just trigger
 * that reconciliation, so a lost event or a restarted agent converges to
 * the same rules. It records every rule it makes in steer_rules and deletes
 * a rule only while the device still holds exactly that rule there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include <linux/devmem.h>
#include <linux/ethtool.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "devmemctl.h"
#include "devmem_bpf.h"
#include "devmem_steer.skel.h"

#define STEER_LINK	"steer_sockops"
/* the agent's lock file's directory ($DEVMEM_RUN_DIR overrides it) */
#define DEVMEM_RUN_DIR	"/run/devmemctl"
#define RECONCILE_MS	2000
#define MAX_RULES	4096

static const char * const steer_maps[] = {
	"steer_policy", "steer_flows", "steer_listen", "steer_rules",
	"steer_state", "steer_events",
};

static const char * const kind_names[] = {
	[DEVMEM_FLOW_LISTEN] = "listen",
	[DEVMEM_FLOW_CONNECT] = "connect",
	[DEVMEM_FLOW_ACCEPTED] = "accepted",
};

static const char * const event_names[] = {
	[DEVMEM_EV_LISTEN] = "listen",
	[DEVMEM_EV_CONNECT] = "connect",
	[DEVMEM_EV_ESTABLISHED] = "established",
	[DEVMEM_EV_CLOSE] = "close",
};

static const char *name_of(const char * const *names, size_t nr, unsigned int v)
{
	return v < nr && names[v] ? names[v] : "unknown";
}

static bool is_cgroup_dir(const char *path)
{
	struct statfs sfs;
	struct stat s;

	return !stat(path, &s) && S_ISDIR(s.st_mode) && !statfs(path, &sfs) &&
	       sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static bool steer_attached(void)
{
	return !access(pin_path(STEER_LINK, true), F_OK);
}

static int not_attached(void)
{
	return error("steering is not attached; run 'devmemctl steer attach'");
}

static int state_get(struct devmem_steer_state *st)
{
	int fd = pinned_map_fd("steer_state"), ret;
	uint32_t zero = 0;

	memset(st, 0, sizeof(*st));
	if (fd < 0)
		return fd;
	ret = bpf_map_lookup_elem(fd, &zero, st) ? -errno : 0;
	close(fd);
	return ret;
}

static int state_set(const struct devmem_steer_state *st)
{
	int fd = pinned_map_fd("steer_state"), ret;
	uint32_t zero = 0;

	if (fd < 0)
		return fd;
	ret = bpf_map_update_elem(fd, &zero, st, BPF_ANY) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * The agent's liveness: it holds an exclusive flock on the lock file for
 * as long as it runs, and the file holds its pid. An attach takes the lock
 * before it loads anything (so two attaches cannot both start an agent)
 * and hands it to the agent it forks. Signals go through a pidfd opened
 * while the lock is seen held by that pid, so a recycled pid is never
 * signalled (a pid read from a map could name any process by now).
 */
static const char *lock_path(void)
{
	static char path[4096];
	const char *d = getenv("DEVMEM_RUN_DIR");

	snprintf(path, sizeof(path), "%s/steer.lock", d && *d ? d : DEVMEM_RUN_DIR);
	return path;
}

/* the lock, held: an fd, or -EWOULDBLOCK (an agent has it), or -errno */
static int lock_take(void)
{
	char dir[4096], *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", lock_path());
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	fd = open(lock_path(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static void lock_set_pid(int fd, pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n)
		warn("cannot write %s: %s", lock_path(), strerror(errno));
}

/* a pidfd of the running agent and its pid, or -1 if none runs */
static int agent_pidfd(uint32_t *pid)
{
	char buf[32] = "";
	int fd, pidfd, held, n;
	unsigned int p;

	*pid = 0;
	fd = open(lock_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0 || sscanf(buf, "%u", &p) != 1 || !p) {
		close(fd);
		return -1;
	}
	pidfd = syscall(SYS_pidfd_open, p, 0);
	/* still held now that the pidfd pins that process: it is the agent */
	held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	if (!held)
		flock(fd, LOCK_UN);
	close(fd);
	if (pidfd < 0 || !held) {
		if (pidfd >= 0)
			close(pidfd);
		return -1;
	}
	*pid = p;
	return pidfd;
}

static bool agent_running(uint32_t *pid)
{
	int pidfd = agent_pidfd(pid);

	if (pidfd < 0)
		return false;
	close(pidfd);
	return true;
}

static int agent_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) ? -errno : 0;
}

/* ---- rules ------------------------------------------------------------------ */

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

static bool all_zero(const uint8_t *a, size_t n)
{
	while (n--)
		if (*a++)
			return false;
	return true;
}

/* the ntuple matches a flow needs: listeners and their accepted flows
 * get dst-port rules (tcp4 and tcp6 for a dual-stack listener), connects
 * a 4-tuple rule; returns how many of @r it filled
 */
static int flow_matches(const struct devmem_flow *f, struct devmem_rule r[2])
{
	bool v6 = f->family == AF_INET6;
	int n = 0;

	memset(r, 0, 2 * sizeof(*r));
	if (f->kind == DEVMEM_FLOW_LISTEN || f->kind == DEVMEM_FLOW_ACCEPTED) {
		if (!v6 || v4mapped(f->laddr) || all_zero(f->laddr, 16)) {
			r[n].flow_type = TCP_V4_FLOW;
			r[n++].dport = f->lport;
		}
		if (v6 && !v4mapped(f->laddr)) {
			r[n].flow_type = TCP_V6_FLOW;
			r[n++].dport = f->lport;
		}
		return n;
	}
	/* received packets: from the remote end to us */
	r[0].sport = f->rport;
	r[0].dport = f->lport;
	if (!v6 || v4mapped(f->laddr)) {
		r[0].flow_type = TCP_V4_FLOW;
		memcpy(r[0].src, v6 ? f->raddr + 12 : f->raddr, 4);
		memcpy(r[0].dst, v6 ? f->laddr + 12 : f->laddr, 4);
	} else {
		r[0].flow_type = TCP_V6_FLOW;
		memcpy(r[0].src, f->raddr, 16);
		memcpy(r[0].dst, f->laddr, 16);
	}
	return 1;
}

static bool same_match(const struct devmem_rule *a, const struct devmem_rule *b)
{
	return a->flow_type == b->flow_type && a->sport == b->sport &&
	       a->dport == b->dport && !memcmp(a->src, b->src, 16) &&
	       !memcmp(a->dst, b->dst, 16);
}

static void rule_print(const char *what, uint32_t ifindex, uint32_t loc,
		       const struct devmem_rule *r)
{
	int fam = r->flow_type == TCP_V6_FLOW ? AF_INET6 : AF_INET;
	char ifname[IF_NAMESIZE] = "?", a[INET6_ADDRSTRLEN];

	if_indextoname(ifindex, ifname);
	out_obj_begin();
	if (what)
		out_str("action", "%s", what);
	out_str("dev", what ? "rule dev %s" : "dev %s", ifname);
	out_u64("ifindex", "ifindex %" PRIu64, ifindex);
	out_u64("location", "loc %" PRIu64, loc);
	out_str("flow-type", "flow-type %s", fam == AF_INET6 ? "tcp6" : "tcp4");
	if (!all_zero(r->src, 16)) {
		fmt_addr(a, sizeof(a), fam, r->src);
		out_str("src-ip", "src-ip %s", a);
	}
	if (!all_zero(r->dst, 16)) {
		fmt_addr(a, sizeof(a), fam, r->dst);
		out_str("dst-ip", "dst-ip %s", a);
	}
	if (r->sport)
		out_u64("src-port", "src-port %" PRIu64, r->sport);
	if (r->dport)
		out_u64("dst-port", "dst-port %" PRIu64, r->dport);
	out_u64("queue", "queue %" PRIu64, r->queue);
	out_u64("binding", "binding %" PRIu64, r->binding_id);
	out_obj_end();
}

/* ---- the agent ------------------------------------------------------------- */

struct owned {
	struct devmem_rule_key key;
	struct devmem_rule rule;
	bool keep;
	bool gone;		/* the device no longer has it: forgotten */
};

struct bcache {
	uint32_t id;
	bool usable;		/* an active rx binding */
	int err;		/* binding-get failed, not with ENOENT */
	struct devmem_binding b;
};

struct agent {
	uint64_t netns;
	bool verbose;		/* foreground: log events and rule changes */
	int policy_fd, flows_fd, rules_fd;
	struct ring_buffer *rb;
	struct devmem_nl *nl, *ntf;
	bool dirty;
	struct owned *owned;
	unsigned int nr_owned;
	struct bcache *bc;
	unsigned int nr_bc;
};

/* the index of binding @id's entry in ag->bc (which this reallocs: keep
 * indices, not pointers, across calls), or -1 out of memory
 */
static int binding_lookup(struct agent *ag, uint32_t id)
{
	struct devmem_err e;
	struct bcache *c;
	unsigned int i;

	for (i = 0; i < ag->nr_bc; i++)
		if (ag->bc[i].id == id)
			return i;
	c = realloc(ag->bc, (ag->nr_bc + 1) * sizeof(*c));
	if (!c)
		return -1;
	ag->bc = c;
	c = &ag->bc[ag->nr_bc++];
	c->id = id;
	c->err = devmem_binding_get(ag->nl, id, &c->b, &e);
	if (c->err == -ENOENT)
		c->err = 0;
	c->usable = !c->err && c->b.id == id &&
		    c->b.state == DEVMEM_STATE_ACTIVE &&
		    c->b.direction == DEVMEM_DIRECTION_RX && c->b.nr_queues;
	return ag->nr_bc - 1;
}

static void bcache_clear(struct agent *ag)
{
	unsigned int i;

	for (i = 0; i < ag->nr_bc; i++)
		devmem_binding_free(&ag->bc[i].b);
	free(ag->bc);
	ag->bc = NULL;
	ag->nr_bc = 0;
}

static int owned_load(struct agent *ag)
{
	struct devmem_rule_key k, cur, *prev = NULL;
	struct devmem_rule r;
	struct owned *o;

	free(ag->owned);
	ag->owned = NULL;
	ag->nr_owned = 0;
	while (!bpf_map_get_next_key(ag->rules_fd, prev, &k)) {
		cur = k;
		prev = &cur;
		if (bpf_map_lookup_elem(ag->rules_fd, &k, &r) ||
		    r.netns_cookie != ag->netns)
			continue;
		o = realloc(ag->owned, (ag->nr_owned + 1) * sizeof(*o));
		if (!o)
			return -ENOMEM;
		ag->owned = o;
		o[ag->nr_owned].key = k;
		o[ag->nr_owned].rule = r;
		o[ag->nr_owned].gone = false;
		o[ag->nr_owned++].keep = false;
	}
	return 0;
}

/* forget a rule record; delete the rule too if the device still has it */
static void owned_drop(struct agent *ag, struct owned *o, bool delete_rule)
{
	char ifname[IF_NAMESIZE];
	bool same = false;

	if (delete_rule && if_indextoname(o->key.ifindex, ifname) &&
	    !eth_rule_matches(ifname, o->key.location, &o->rule, &same) &&
	    same) {
		int ret = eth_rule_del(ifname, o->key.location);

		if (ret)
			warn("cannot delete rule %u on %s: %s", o->key.location,
			     ifname, strerror(-ret));
		else if (ag->verbose)
			rule_print("del", o->key.ifindex, o->key.location, &o->rule);
	}
	bpf_map_delete_elem(ag->rules_fd, &o->key);
}

/* at start: records of rules the device no longer has (or has replaced)
 * are forgotten, never deleted
 */
static void owned_resync(struct agent *ag)
{
	char ifname[IF_NAMESIZE];
	unsigned int i;

	owned_load(ag);
	for (i = 0; i < ag->nr_owned; i++) {
		struct owned *o = &ag->owned[i];
		bool same = false;

		if (!if_indextoname(o->key.ifindex, ifname) ||
		    eth_rule_matches(ifname, o->key.location, &o->rule, &same) ||
		    !same)
			owned_drop(ag, o, false);
	}
}

static bool queue_of(const struct devmem_binding *b, uint32_t q)
{
	unsigned int i;

	for (i = 0; i < b->nr_queues; i++)
		if (b->queues[i] == q)
			return true;
	return false;
}

/* the binding's queue with the fewest of our rules on it */
static uint32_t pick_queue(struct agent *ag, const struct devmem_binding *b)
{
	unsigned int i, j, best = 0, best_n = ~0u;

	for (i = 0; i < b->nr_queues; i++) {
		unsigned int n = 0;

		for (j = 0; j < ag->nr_owned; j++)
			if (ag->owned[j].keep &&
			    ag->owned[j].key.ifindex == b->ifindex &&
			    ag->owned[j].rule.queue == b->queues[i])
				n++;
		if (n < best_n) {
			best_n = n;
			best = i;
		}
	}
	return b->queues[best];
}

struct wanted {
	struct devmem_rule r;
	unsigned int bc;	/* its binding: ag->bc[bc] */
};

static void reconcile(struct agent *ag)
{
	struct wanted *want = NULL;
	unsigned int nr_want = 0, i, j;
	uint64_t cookie, *prev = NULL;
	struct devmem_flow f;

	ag->dirty = false;
	bcache_clear(ag);
	if (owned_load(ag))
		return;

	/* what the live flows need */
	while (!bpf_map_get_next_key(ag->flows_fd, prev, &cookie)) {
		struct devmem_policy_val pv;
		struct devmem_rule m[2];
		const struct bcache *c;
		static uint64_t cur;
		int n, bc;

		cur = cookie;
		prev = &cur;
		if (bpf_map_lookup_elem(ag->flows_fd, &cookie, &f) ||
		    f.policy.netns_cookie != ag->netns)
			continue;
		if (bpf_map_lookup_elem(ag->policy_fd, &f.policy, &pv) ||
		    pv.binding_id != f.binding_id)
			continue;	/* its policy entry is gone */
		bc = binding_lookup(ag, f.binding_id);
		c = bc >= 0 ? &ag->bc[bc] : NULL;
		if (!c || c->err) {
			/* not knowing is not a reason to delete: next time */
			ag->dirty = true;
			goto out;
		}
		if (!c->usable)
			continue;
		n = flow_matches(&f, m);
		for (i = 0; i < (unsigned int)n; i++) {
			struct wanted *w;

			m[i].netns_cookie = ag->netns;
			m[i].binding_id = f.binding_id;
			for (j = 0; j < nr_want; j++)
				if (ag->bc[want[j].bc].b.ifindex == c->b.ifindex &&
				    same_match(&want[j].r, &m[i]))
					break;
			if (j < nr_want)
				continue;
			w = realloc(want, (nr_want + 1) * sizeof(*w));
			if (!w)
				goto out;
			want = w;
			want[nr_want].r = m[i];
			want[nr_want++].bc = bc;
		}
	}

	/* keep what we have that is still wanted, on a queue of its binding,
	 * and still on the device: one deleted behind our back (ethtool -N
	 * ... delete) or replaced is forgotten and made again
	 */
	for (i = 0; i < nr_want; i++) {
		const struct devmem_binding *b = &ag->bc[want[i].bc].b;

		for (j = 0; j < ag->nr_owned; j++) {
			struct owned *o = &ag->owned[j];
			char ifname[IF_NAMESIZE];
			bool same = false;
			int ret;

			if (o->keep || o->gone || o->key.ifindex != b->ifindex ||
			    o->rule.binding_id != want[i].r.binding_id ||
			    !same_match(&o->rule, &want[i].r) ||
			    !queue_of(b, o->rule.queue))
				continue;
			ret = if_indextoname(o->key.ifindex, ifname) ?
			      eth_rule_matches(ifname, o->key.location,
					       &o->rule, &same) : -ENODEV;
			/* not knowing (another error) is not gone */
			if (ret == -ENOENT || ret == -ENODEV || (!ret && !same)) {
				if (ag->verbose)
					rule_print("gone", o->key.ifindex,
						   o->key.location, &o->rule);
				owned_drop(ag, o, false);
				o->gone = true;
				continue;
			}
			o->keep = true;
			want[i].r.queue = UINT32_MAX;	/* satisfied */
			break;
		}
	}
	for (j = 0; j < ag->nr_owned; j++)
		if (!ag->owned[j].keep && !ag->owned[j].gone)
			owned_drop(ag, &ag->owned[j], true);

	for (i = 0; i < nr_want; i++) {
		const struct devmem_binding *b = &ag->bc[want[i].bc].b;
		struct devmem_rule_key k;
		struct devmem_rule *r = &want[i].r;
		char ifname[IF_NAMESIZE];
		struct owned *o;
		int ret;

		if (r->queue == UINT32_MAX)
			continue;
		k.ifindex = b->ifindex;
		if (!if_indextoname(k.ifindex, ifname))
			continue;
		r->queue = pick_queue(ag, b);
		ret = eth_rule_add(ifname, r, &k.location);
		if (ret) {
			warn("cannot add an ntuple rule on %s for binding %u: %s",
			     ifname, r->binding_id, strerror(-ret));
			continue;
		}
		if (bpf_map_update_elem(ag->rules_fd, &k, r, BPF_ANY)) {
			/* unrecorded, it would leak: take it back */
			eth_rule_del(ifname, k.location);
			continue;
		}
		if (ag->verbose)
			rule_print("add", k.ifindex, k.location, r);
		o = realloc(ag->owned, (ag->nr_owned + 1) * sizeof(*o));
		if (o) {
			ag->owned = o;
			o[ag->nr_owned].key = k;
			o[ag->nr_owned].rule = *r;
			o[ag->nr_owned].gone = false;
			o[ag->nr_owned++].keep = true;
		}
	}
out:
	free(want);
}

static void flow_print(const char *event, uint64_t cookie,
		       const struct devmem_flow *f, uint32_t pid)
{
	char a[INET6_ADDRSTRLEN], ep[INET6_ADDRSTRLEN + 16];
	int fam = f->family == AF_INET6 ? AF_INET6 : AF_INET;

	out_obj_begin();
	if (event)
		out_str("event", "%s", event);
	out_str("kind", event ? "kind %s" : "flow %s",
		name_of(kind_names, ARRAY_SIZE(kind_names), f->kind));
	out_u64("cookie", "cookie %" PRIu64, cookie);
	out_u64("binding", "binding %" PRIu64, f->binding_id);
	fmt_addr(a, sizeof(a), fam, f->laddr);
	snprintf(ep, sizeof(ep), fam == AF_INET6 ? "[%s]:%u" : "%s:%u", a, f->lport);
	out_str("local", "local %s", ep);
	if (f->kind != DEVMEM_FLOW_LISTEN || f->rport) {
		fmt_addr(a, sizeof(a), fam, f->raddr);
		snprintf(ep, sizeof(ep), fam == AF_INET6 ? "[%s]:%u" : "%s:%u",
			 a, f->rport);
		out_str("remote", "remote %s", ep);
	}
	if (f->cgroup_id)
		out_u64("cgroup-id", "cgroup-id %" PRIu64, f->cgroup_id);
	if (pid)
		out_u64("pid", "pid %" PRIu64, pid);
	out_obj_end();
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct agent *ag = ctx;
	const struct devmem_event *e = data;

	if (len < sizeof(*e) || e->flow.policy.netns_cookie != ag->netns)
		return 0;
	if (ag->verbose)
		flow_print(name_of(event_names, ARRAY_SIZE(event_names), e->type),
			   e->cookie, &e->flow, e->pid);
	if (e->type != DEVMEM_EV_ESTABLISHED ||
	    e->flow.kind == DEVMEM_FLOW_ACCEPTED)
		ag->dirty = true;
	return 0;
}

static void on_ntf(int cmd, const struct devmem_binding *b, void *arg)
{
	struct agent *ag = arg;

	ag->dirty = true;
}

/* delete every rule this agent made in its netns */
static void agent_cleanup(struct agent *ag)
{
	unsigned int i;

	if (owned_load(ag))
		return;
	for (i = 0; i < ag->nr_owned; i++)
		owned_drop(ag, &ag->owned[i], true);
}

static int agent_open_maps(struct agent *ag)
{
	ag->policy_fd = pinned_map_fd("steer_policy");
	ag->flows_fd = pinned_map_fd("steer_flows");
	ag->rules_fd = pinned_map_fd("steer_rules");
	if (ag->policy_fd < 0 || ag->flows_fd < 0 || ag->rules_fd < 0)
		return -ENOENT;
	return 0;
}

/* runs until SIGTERM/SIGINT, holding @lock_fd (the lock file, locked);
 * once the rules agree: @ready_fd gets one byte (a daemon: its messages
 * go to syslog from then on) and *@ready is set; a foreground agent
 * prints its pid then
 */
static int agent_run(bool verbose, int ready_fd, int lock_fd, bool *ready)
{
	struct agent ag = { .verbose = verbose };
	struct devmem_steer_state st = {};
	struct epoll_event ev, evs[4];
	int efd = -1, sfd = -1, evfd = -1, ret = EXIT_ERR;
	struct devmem_err e;
	sigset_t mask;

	ag.netns = netns_cookie_self();
	if (agent_open_maps(&ag))
		return not_attached();
	evfd = pinned_map_fd("steer_events");
	ag.rb = evfd >= 0 ? ring_buffer__new(evfd, on_event, &ag, NULL) : NULL;
	if (!ag.rb) {
		error("cannot read the steering ring buffer");
		goto out;
	}
	ag.nl = dm_open(&e);
	ag.ntf = ag.nl ? dm_open(&e) : NULL;
	if (!ag.ntf || devmem_ntf_subscribe(ag.ntf, &e)) {
		ret = dm_error("steering agent", &e, NULL);
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	efd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || efd < 0) {
		error("steering agent: %s", strerror(errno));
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = 0;
	epoll_ctl(efd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(ag.rb), &ev);
	ev.data.u32 = 1;
	epoll_ctl(efd, EPOLL_CTL_ADD, devmem_nl_fd(ag.ntf), &ev);
	ev.data.u32 = 2;
	epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);

	st.agent_pid = getpid();
	st.netns_cookie = ag.netns;
	state_set(&st);
	lock_set_pid(lock_fd, getpid());

	owned_resync(&ag);
	ring_buffer__consume(ag.rb);	/* what happened while no agent ran */
	reconcile(&ag);
	if (ready)
		*ready = true;
	if (ready_fd >= 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		/* stderr was the starter's pipe for our start failures */
		log_to_syslog();
		if (null >= 0) {
			dup2(null, STDERR_FILENO);
			close(null);
		}
		if (write(ready_fd, "1", 1) != 1)
			ready_fd = -1;
		close(ready_fd);
	} else if (verbose) {
		out_obj_begin();
		out_u64("agent-pid", "steering agent pid %" PRIu64, getpid());
		out_obj_end();
	}

	for (;;) {
		int i, n = epoll_wait(efd, evs, ARRAY_SIZE(evs), RECONCILE_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			ag.dirty = true;
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == 0) {
				ring_buffer__consume(ag.rb);
			} else if (evs[i].data.u32 == 1) {
				devmem_ntf_read(ag.ntf, on_ntf, &ag);
			} else {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo != SIGHUP)
					goto stop;
				ag.dirty = true;
			}
		}
		if (ag.dirty)
			reconcile(&ag);
	}
stop:
	agent_cleanup(&ag);
	if (!state_get(&st) && st.agent_pid == (uint32_t)getpid()) {
		st.agent_pid = 0;
		state_set(&st);
	}
	ret = EXIT_OK;
out:
	bcache_clear(&ag);
	free(ag.owned);
	ring_buffer__free(ag.rb);
	devmem_nl_close(ag.nl);
	devmem_nl_close(ag.ntf);
	if (evfd >= 0)
		close(evfd);
	if (sfd >= 0)
		close(sfd);
	if (efd >= 0)
		close(efd);
	return ret;
}

/* ---- attach / detach ----------------------------------------------------------- */

static int steer_load(const char *cgroup)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = bpffs_dir());
	struct devmem_steer *skel;
	struct bpf_link *link;
	int cg, ret;

	ret = pin_dirs_make();
	if (ret)
		return error("cannot make %s: %s (is bpffs mounted on /sys/fs/bpf?)",
			     bpffs_dir(), strerror(-ret));
	skel = devmem_steer__open_opts(&opts);
	if (!skel)
		return error("cannot open the steering BPF object: %s",
			     strerror(errno));
	ret = devmem_steer__load(skel);
	if (ret) {
		devmem_steer__destroy(skel);
		return error("cannot load the steering BPF program: %s",
			     strerror(-ret));
	}
	cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		ret = error("cannot open cgroup \"%s\": %s", cgroup, strerror(errno));
		goto fail;
	}
	link = bpf_program__attach_cgroup(skel->progs.steer_sockops, cg);
	close(cg);
	if (!link) {
		ret = error("cannot attach to cgroup \"%s\": %s", cgroup,
			    strerror(errno));
		goto fail;
	}
	ret = bpf_link__pin(link, pin_path(STEER_LINK, true));
	bpf_link__destroy(link);
	if (ret) {
		ret = error("cannot pin %s: %s", pin_path(STEER_LINK, true),
			    strerror(-ret));
		goto fail;
	}
	devmem_steer__destroy(skel);
	return 0;
fail:
	/* maps pinned by the load go again */
	bpf_object__unpin_maps(skel->obj, NULL);
	devmem_steer__destroy(skel);
	pin_dirs_remove();
	return ret;
}

static void steer_unpin(void)
{
	unsigned int i;

	unlink(pin_path(STEER_LINK, true));
	for (i = 0; i < ARRAY_SIZE(steer_maps); i++)
		unlink(pin_path(steer_maps[i], false));
	pin_dirs_remove();
}

static void attach_usage(FILE *f)
{
	fprintf(f, "Usage: devmemctl steer attach [ foreground ] [ cgroup PATH ]\n");
}

/* "Error: X.\nError: Y.\n" from a failed agent's stderr: "X; Y" */
static void start_reason(int fd, char *buf, size_t len)
{
	char raw[2048], *line, *save = NULL;
	size_t off = 0, n = 0;
	ssize_t r;

	while (n < sizeof(raw) - 1 &&
	       (r = read(fd, raw + n, sizeof(raw) - 1 - n)) > 0)
		n += r;
	raw[n] = '\0';
	buf[0] = '\0';
	for (line = strtok_r(raw, "\n", &save); line && off < len;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t l;

		if (!strncmp(line, "Error: ", 7) || !strncmp(line, "Warning: ", 9))
			line = strchr(line, ' ') + 1;
		l = strlen(line);
		if (l && line[l - 1] == '.')
			line[l - 1] = '\0';
		off += snprintf(buf + off, len - off, "%s%s", off ? "; " : "", line);
	}
	if (!buf[0])
		snprintf(buf, len, "it exited without a message");
}

/* an agent (pid @pid) runs: say where */
static int already_attached(uint32_t pid)
{
	struct devmem_steer_state st;

	if (!state_get(&st) && st.agent_pid == pid &&
	    st.netns_cookie != netns_cookie_self())
		return error("steering is already attached: its agent (pid %u) serves another network namespace, and one agent serves one",
			     pid);
	return error("steering is already attached (agent pid %u)", pid);
}

static int steer_attach(int argc, char **argv)
{
	const char *cgroup = "";
	char cgroup_dir[4096], reason[1024];
	bool foreground = false, loaded = false, ready = false;
	unsigned int seen = 0;
	int pfd[2], efd[2], lock, ret;
	uint32_t running;
	pid_t pid;
	char c;

	for (; argc > 0; NEXT_ARG()) {
		if (is_kw(argv[0], "foreground")) {
			ONCE_FLAG(1);
			foreground = true;
		} else if (is_kw(argv[0], "cgroup")) {
			ONCE_VAL(2);
			NEXT_VAL("cgroup");
			cgroup = argv[0];
		} else if (is_help(argv[0])) {
			attach_usage(stdout);
			return EXIT_OK;
		} else {
			return usage_unknown("argument", argv[0]);
		}
	}
	cgroup_path(cgroup, cgroup_dir, sizeof(cgroup_dir));
	if (!is_cgroup_dir(cgroup_dir))
		return usage_bad("cgroup", cgroup, "not a cgroup v2 directory");

	/* one attach at a time, and none while an agent runs */
	lock = lock_take();
	if (lock == -EWOULDBLOCK) {
		if (agent_running(&running))
			return already_attached(running);
		return error("another devmemctl is attaching steering (%s is locked)",
			     lock_path());
	}
	if (lock < 0)
		return error("cannot lock %s: %s", lock_path(), strerror(-lock));

	if (!steer_attached()) {
		ret = steer_load(cgroup_dir);
		if (ret) {
			close(lock);
			return ret;
		}
		loaded = true;
	}
	/* else the programs and maps stayed: an agent restarts on them */

	if (foreground) {
		ret = agent_run(true, -1, lock, &ready);
		/* what this attach loaded goes with an agent that never ran */
		if (ret && !ready && loaded)
			steer_unpin();
		close(lock);
		return ret;
	}
	if (pipe2(pfd, O_CLOEXEC) || pipe2(efd, O_CLOEXEC)) {
		close(lock);
		return error("pipe: %s", strerror(errno));
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(lock);
		return error("fork: %s", strerror(errno));
	}
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		close(pfd[0]);
		close(efd[0]);
		setsid();
		/* until it is ready, its errors are text on the pipe */
		json_out = false;
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			close(null);
		}
		dup2(efd[1], 2);
		close(efd[1]);
		_exit(agent_run(false, pfd[1], lock, NULL));
	}
	/* the child holds the lock now (the same open file) */
	close(lock);
	close(pfd[1]);
	close(efd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		start_reason(efd[0], reason, sizeof(reason));
		close(pfd[0]);
		close(efd[0]);
		waitpid(pid, NULL, 0);
		if (loaded)
			steer_unpin();
		return error("the steering agent did not start: %s", reason);
	}
	close(pfd[0]);
	close(efd[0]);
	out_obj_begin();
	out_u64("agent-pid", "steering agent pid %" PRIu64, pid);
	out_obj_end();
	return EXIT_OK;
}

/* records the agents of other network namespaces keep */
static unsigned int rules_of_other_netns(struct agent *ag)
{
	struct devmem_rule_key k, cur, *prev = NULL;
	struct devmem_rule r;
	unsigned int n = 0;

	while (!bpf_map_get_next_key(ag->rules_fd, prev, &k)) {
		cur = k;
		prev = &cur;
		if (!bpf_map_lookup_elem(ag->rules_fd, &k, &r) &&
		    r.netns_cookie != ag->netns)
			n++;
	}
	return n;
}

static int steer_detach(int argc, char **argv)
{
	struct devmem_steer_state st;
	struct agent ag = {};
	unsigned int others;
	uint32_t pid;
	int pidfd, lock;

	if (argc > 0 && is_help(argv[0])) {
		printf("Usage: devmemctl steer detach\n");
		return EXIT_OK;
	}
	if (argc > 0)
		return usage_unknown("argument", argv[0]);
	if (!steer_attached())
		return not_attached();
	pidfd = agent_pidfd(&pid);
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (!state_get(&st) && st.agent_pid == pid &&
		    st.netns_cookie != netns_cookie_self()) {
			close(pidfd);
			return error("the steering agent (pid %u) runs in another network namespace; detach from there (-n NETNS)",
				     pid);
		}
		agent_signal(pidfd, SIGTERM);
		/* a pidfd polls readable once its process has exited */
		while (poll(&p, 1, 10000) < 0 && errno == EINTR)
			;
		close(pidfd);
		if (!(p.revents & POLLIN))
			return error("the steering agent (pid %u) did not stop", pid);
	}
	/* no agent starts meanwhile */
	lock = lock_take();
	if (lock == -EWOULDBLOCK)
		return error("a steering agent started meanwhile; detach again");
	/* rules an agent killed by SIGKILL left behind */
	ag.netns = netns_cookie_self();
	if (!agent_open_maps(&ag)) {
		agent_cleanup(&ag);
		others = rules_of_other_netns(&ag);
		if (others)
			warn("%u rules of other network namespaces stay recorded",
			     others);
	}
	close(ag.policy_fd);
	close(ag.flows_fd);
	close(ag.rules_fd);
	free(ag.owned);
	steer_unpin();
	if (lock >= 0)
		close(lock);
	return EXIT_OK;
}

/* ---- show ------------------------------------------------------------------ */

static void policy_print(const struct devmem_policy_key *k,
			 const struct devmem_policy_val *v)
{
	out_obj_begin();
	out_u64("port", "policy port %" PRIu64, k->port);
	if (k->cgroup_id)
		out_u64("cgroup-id", "cgroup-id %" PRIu64, k->cgroup_id);
	out_u64("binding", "binding %" PRIu64, v->binding_id);
	out_obj_end();
}

static void show_policies(uint64_t netns)
{
	struct devmem_policy_key k, cur, *prev = NULL;
	struct devmem_policy_val v;
	int fd = pinned_map_fd("steer_policy");

	out_list_begin("policy");
	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &k)) {
		cur = k;
		prev = &cur;
		if (k.netns_cookie == netns && !bpf_map_lookup_elem(fd, &k, &v))
			policy_print(&k, &v);
	}
	out_list_end();
	if (fd >= 0)
		close(fd);
}

static void show_flows(uint64_t netns)
{
	uint64_t k, cur, *prev = NULL;
	struct devmem_flow f;
	int fd = pinned_map_fd("steer_flows");

	out_list_begin("flow");
	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &k)) {
		cur = k;
		prev = &cur;
		if (!bpf_map_lookup_elem(fd, &k, &f) &&
		    f.policy.netns_cookie == netns)
			flow_print(NULL, k, &f, 0);
	}
	out_list_end();
	if (fd >= 0)
		close(fd);
}

static void show_rules(uint64_t netns)
{
	struct devmem_rule_key k, cur, *prev = NULL;
	struct devmem_rule r;
	int fd = pinned_map_fd("steer_rules");

	out_list_begin("rule");
	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &k)) {
		cur = k;
		prev = &cur;
		if (!bpf_map_lookup_elem(fd, &k, &r) && r.netns_cookie == netns)
			rule_print(NULL, k.ifindex, k.location, &r);
	}
	out_list_end();
	if (fd >= 0)
		close(fd);
}

static int steer_show(int argc, char **argv)
{
	struct devmem_steer_state st;
	bool attached = steer_attached();
	uint64_t netns = netns_cookie_self();
	uint32_t pid = 0;

	if (argc > 0 && is_help(argv[0])) {
		printf("Usage: devmemctl steer show [ policy | flow | rule ]\n");
		return EXIT_OK;
	}
	if (argc > 0 && !attached)
		return not_attached();
	if (argc > 0) {
		if (argc > 1)
			return usage_unknown("argument", argv[1]);
		if (is_kw(argv[0], "policy"))
			show_policies(netns);
		else if (is_kw(argv[0], "flow"))
			show_flows(netns);
		else if (is_kw(argv[0], "rule"))
			show_rules(netns);
		else
			return usage_unknown("argument", argv[0]);
		return EXIT_OK;
	}
	state_get(&st);
	out_doc_begin();
	out_obj_begin();
	out_str("state", "steer %s", attached ? "attached" : "detached");
	if (attached) {
		out_str("pin-dir", "pin-dir %s", bpffs_dir());
		if (!agent_running(&pid))
			out_str("agent", "agent %s", "gone");
		else if (!state_get(&st) && st.agent_pid == pid &&
			 st.netns_cookie != netns)
			out_str("agent", "agent %s", "other-netns");
		else
			out_str("agent", "agent %s", "running");
		if (pid)
			out_u64("agent-pid", "agent-pid %" PRIu64, pid);
	}
	out_obj_end();
	if (attached) {
		show_policies(netns);
		show_flows(netns);
		show_rules(netns);
	}
	out_doc_end();
	return EXIT_OK;
}

/* ---- policy ---------------------------------------------------------------- */

/* a cgroup v2 directory's id: its file handle, or (kernels without
 * CONFIG_FHANDLE) its inode number, which is the same on 64-bit kernels
 */
static int cgroup_id_of(const char *arg, __u64 *id)
{
	char path[4096];
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mount_id;
	struct stat s;

	cgroup_path(arg, path, sizeof(path));
	if (!is_cgroup_dir(path) || stat(path, &s))
		return usage_bad("cgroup", arg, "not a cgroup v2 directory");
	if (!name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		*id = h.id;
	else
		*id = s.st_ino;
	return 0;
}

static void policy_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl steer policy add [ port PORT ] [ cgroup PATH ] binding ID\n"
"       devmemctl steer policy del [ port PORT ] [ cgroup PATH ]\n"
"       devmemctl steer policy show\n"
"A socket that listens on PORT, or connects to remote PORT, made by a process\n"
"in cgroup PATH or below it, becomes a devmem flow of binding ID.\n");
}

static int notify_agent(void)
{
	uint32_t pid;
	int pidfd = agent_pidfd(&pid);

	if (pidfd >= 0) {
		agent_signal(pidfd, SIGHUP);
		close(pidfd);
	}
	return EXIT_OK;
}

static int steer_policy(int argc, char **argv)
{
	struct devmem_policy_key k = { .netns_cookie = netns_cookie_self() };
	struct devmem_policy_val v = {};
	bool add, have_binding = false;
	unsigned int seen = 0;
	uint32_t port = 0;
	int fd, ret;

	if (argc > 0 && is_help(argv[0])) {
		policy_usage(stdout);
		return EXIT_OK;
	}
	/* "steer policy" alone: show */
	if (argc < 1 || is_kw(argv[0], "show")) {
		if (argc > 1 && is_help(argv[1])) {
			policy_usage(stdout);
			return EXIT_OK;
		}
		if (argc > 1)
			return usage_unknown("argument", argv[1]);
		if (!steer_attached())
			return not_attached();
		show_policies(k.netns_cookie);
		return EXIT_OK;
	}
	if (!is_kw(argv[0], "add") && !is_kw(argv[0], "del"))
		return usage_unknown("command", argv[0]);
	add = is_kw(argv[0], "add");
	for (NEXT_ARG(); argc > 0; NEXT_ARG()) {
		if (is_kw(argv[0], "port")) {
			ONCE_VAL(1);
			NEXT_VAL("port");
			if (parse_u32("port", argv[0], 1, 65535, &port))
				return EXIT_USAGE;
			k.port = port;
		} else if (is_kw(argv[0], "cgroup")) {
			ONCE_VAL(2);
			NEXT_VAL("cgroup");
			if (cgroup_id_of(argv[0], &k.cgroup_id))
				return EXIT_USAGE;
		} else if (is_help(argv[0])) {
			policy_usage(stdout);
			return EXIT_OK;
		} else if (is_kw(argv[0], "binding") && add) {
			ONCE_VAL(4);
			NEXT_VAL("binding");
			if (parse_u32("binding", argv[0], 1, UINT32_MAX,
				      &v.binding_id))
				return EXIT_USAGE;
			have_binding = true;
		} else {
			return usage_unknown("argument", argv[0]);
		}
	}
	if (!k.port && !k.cgroup_id)
		return usage_error("a policy needs a port, a cgroup or both");
	if (add && !have_binding)
		return usage_missing("binding");
	if (!steer_attached())
		return not_attached();
	if (add) {
		struct devmem_steer_state st;
		uint32_t pid;

		/* one agent, one netns: nobody would serve this policy */
		if (!agent_running(&pid))
			warn("no steering agent runs: the policy applies once one does ('devmemctl steer attach')");
		else if (!state_get(&st) && st.agent_pid == pid &&
			 st.netns_cookie != k.netns_cookie)
			return error("the steering agent (pid %u) serves another network namespace: no agent would serve this policy",
				     pid);
	}

	if (add) {
		struct devmem_binding b;
		struct devmem_err e;
		struct devmem_nl *nl = dm_open(&e);
		char hint[64];

		if (!nl)
			return dm_error(NULL, &e, NULL);
		ret = devmem_binding_get(nl, v.binding_id, &b, &e);
		devmem_nl_close(nl);
		if (ret) {
			snprintf(hint, sizeof(hint), "binding %u", v.binding_id);
			return dm_error(hint, &e, "see 'devmemctl binding show'");
		}
		ret = b.direction != DEVMEM_DIRECTION_RX;
		devmem_binding_free(&b);
		if (ret)
			return error("binding %u is not an rx binding",
				     v.binding_id);
	}
	fd = pinned_map_fd("steer_policy");
	if (fd < 0)
		return not_attached();
	if (add)
		ret = bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST) ? -errno : 0;
	else
		ret = bpf_map_delete_elem(fd, &k) ? -errno : 0;
	close(fd);
	if (ret == -EEXIST)
		return error("a policy for this port and cgroup exists; delete it first");
	if (ret == -ENOENT)
		return error("no such policy");
	if (ret)
		return error("cannot %s the policy: %s", add ? "add" : "delete",
			     strerror(-ret));
	return notify_agent();
}

static void steer_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl steer attach [ foreground ] [ cgroup PATH ]\n"
"       devmemctl steer detach\n"
"       devmemctl steer show [ policy | flow | rule ]\n"
"       devmemctl steer policy { add | del | show } ...\n");
}

int do_steer(int argc, char **argv)
{
	/* the object alone: show */
	if (argc < 1)
		return steer_show(0, argv);
	if (is_help(argv[0])) {
		steer_usage(stdout);
		return EXIT_OK;
	}
	if (is_kw(argv[0], "attach"))
		return steer_attach(argc - 1, argv + 1);
	if (is_kw(argv[0], "detach"))
		return steer_detach(argc - 1, argv + 1);
	if (is_kw(argv[0], "show"))
		return steer_show(argc - 1, argv + 1);
	if (is_kw(argv[0], "policy"))
		return steer_policy(argc - 1, argv + 1);
	return usage_unknown("command", argv[0]);
}
