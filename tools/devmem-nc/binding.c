// SPDX-License-Identifier: GPL-2.0
/*
 * devmem-nc's dmabuf (a udmabuf, an inherited fd, or an existing
 * binding's) and its binding, all through libdevmem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>

#include "devmem-nc.h"

static int udmabuf_create(uint64_t size)
{
	char limit[32] = "";
	int fd = devmem_udmabuf_create(size);
	FILE *f;

	if (fd >= 0)
		return fd;
	if (fd == -ENOENT && access("/dev/udmabuf", F_OK))
		return fail("/dev/udmabuf: %s (is CONFIG_UDMABUF enabled and the module loaded?)",
			    strerror(-fd));
	f = fopen("/sys/module/udmabuf/parameters/size_limit_mb", "r");
	if (f) {
		if (!fgets(limit, sizeof(limit), f))
			limit[0] = '\0';
		limit[strcspn(limit, "\n")] = '\0';
		fclose(f);
	}
	if (fd == -EINVAL && limit[0] && size > strtoull(limit, NULL, 10) * MiB)
		return fail("UDMABUF_CREATE of %" PRIu64 " bytes: %s (udmabuf.size_limit_mb is %s)",
			    size, strerror(-fd), limit);
	return fail("UDMABUF_CREATE of %" PRIu64 " bytes: %s", size,
		    strerror(-fd));
}

int dmabuf_map(struct dmabuf *db, const struct opts *o)
{
	int prot = PROT_READ, ret;
	void *map;

	/* the bounce server copies into it, the client writes the pattern */
	if (o->mode == MODE_BOUNCE || !o->listen)
		prot |= PROT_WRITE;
	ret = devmem_dmabuf_map(db->fd, db->size, prot, &map);
	if (ret)
		return fail("mmap of the dmabuf (%" PRIu64 " bytes): %s",
			    db->size, strerror(-ret));
	db->map = map;
	return 0;
}

int dmabuf_setup(struct dmabuf *db, const struct opts *o)
{
	if (o->dmabuf_fd >= 0) {
		int ret;

		if (fcntl(o->dmabuf_fd, F_GETFD) < 0)
			return fail("--dmabuf-fd %d: %s", o->dmabuf_fd,
				    strerror(errno));
		ret = devmem_dmabuf_size(o->dmabuf_fd, &db->size);
		if (ret)
			return fail("--dmabuf-fd %d: not a dmabuf (cannot get its size: %s)",
				    o->dmabuf_fd,
				    ret == -EINVAL ? "size 0" : strerror(-ret));
		db->fd = o->dmabuf_fd;
		db->own_fd = false;
	} else {
		db->fd = udmabuf_create(o->dmabuf_size);
		if (db->fd < 0)
			return -1;
		db->own_fd = true;
		db->size = o->dmabuf_size;
	}
	return dmabuf_map(db, o);
}

void dmabuf_teardown(struct dmabuf *db)
{
	if (db->map)
		devmem_dmabuf_unmap(db->map, db->size);
	if (db->own_fd && db->fd >= 0)
		close(db->fd);
}

int dmabuf_sync(struct dmabuf *db, bool start, unsigned int dir)
{
	int ret = start ? devmem_dmabuf_sync_begin(db->fd, dir) :
			  devmem_dmabuf_sync_end(db->fd, dir);

	if (ret)
		return fail("DMA_BUF_IOCTL_SYNC %s: %s", start ? "START" : "END",
			    strerror(-ret));
	return 0;
}

/* after the kernel's refusal: what it means here */
static const char *bind_hint(int err, bool netdev, bool tx)
{
	if (err == EPERM)
		return netdev ? (tx ? "; bind-tx needs CAP_NET_ADMIN" :
				      "; bind-rx needs CAP_NET_ADMIN") :
				"; the devmem family needs CAP_NET_ADMIN";
	if (err == EOPNOTSUPP && !tx)
		return "; the device cannot restart queues or take a memory provider";
	return "";
}

/* "WHAT: EXTACK (ENAME); HINT", with the attribute the kernel blamed */
static int nl_fail(const char *what, const struct devmem_err *e,
		   const char *hint)
{
	char extra[64] = "";

	if (e->missing_attr)
		snprintf(extra, sizeof(extra), "; missing attribute %d",
			 e->missing_attr);
	else if (e->bad_attr && !e->msg[0])
		snprintf(extra, sizeof(extra),
			 "; the kernel flagged attribute %d", e->bad_attr);
	return fail("%s: %s (%s)%s%s", what, e->msg[0] ? e->msg : strerror(e->err),
		    errno_name(e->err), extra, hint ?: "");
}

/*
 * Bind the dmabuf: the server to its rx queues, the client for transmit
 * on its device; with the devmem family, or the netdev family's bind-rx
 * or bind-tx (--netdev-bind, or a kernel without the devmem family).  A
 * binding of lifetime socket lives as long as the returned handle, so the
 * caller keeps it until it is done receiving, or its last send completed.
 */
struct devmem_nl *bind_dmabuf(const struct opts *o, int dmabuf_fd,
			      uint32_t *id, const char **family)
{
	bool tx = !o->listen;
	struct devmem_bind_opts bo = {
		.sz = sizeof(bo), .dmabuf_fd = dmabuf_fd,
		.direction = tx ? DEVMEM_TX : DEVMEM_RX,
		.queues = tx ? NULL : o->queues,
		.nr_queues = tx ? 0 : o->nr_queues,
		.lifetime = (enum devmem_life)o->lifetime,
	};
	struct devmem_nl *nl;
	struct devmem_err e;
	bool netdev;

	bo.ifindex = if_nametoindex(o->ifname);
	if (!bo.ifindex) {
		fail("-i %s: %s", o->ifname, strerror(errno));
		return NULL;
	}
	if (devmem_nl_open(&nl, o->netdev_bind ? DEVMEM_OPEN_NETDEV : 0, &e)) {
		fail("%s", e.msg);
		return NULL;
	}
	netdev = !devmem_nl_has_family(nl);
	if (netdev && !o->netdev_bind)
		msg("the kernel has no devmem family: binding with the netdev family's %s (the binding ends with devmem-nc; no unbind, listing or counters)",
		    tx ? "bind-tx" : "bind-rx");
	if (devmem_bind(nl, &bo, id, &e)) {
		nl_fail(netdev ? (tx ? "bind-tx" : "bind-rx") : "devmem bind",
			&e, bind_hint(e.err, netdev, tx));
		devmem_nl_close(nl);
		return NULL;
	}
	*family = netdev ? "netdev" : "devmem";
	return nl;
}

static const char *id_hint(int err)
{
	return err == EPERM ? "; the devmem family needs CAP_NET_ADMIN" :
	       err == ENOENT ? "; no binding with that id in this network namespace" :
	       "";
}

static void fmt_queues(char *buf, size_t len, const struct devmem_binding *b)
{
	size_t pos = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < b->nr_queues && pos < len; i++)
		pos += snprintf(buf + pos, len - pos, "%s%u", i ? "," : "",
				b->queues[i]);
}

/*
 * --binding ID: receive into (or, the client, send from) a binding someone
 * else made.  binding-get says what it is bound to; dmabuf-get installs a
 * new fd of its dmabuf in this process, mapped like our own udmabuf.
 */
int binding_attach(const struct opts *o, struct dmabuf *db)
{
	uint32_t want = o->listen ? DEVMEM_DIRECTION_RX : DEVMEM_DIRECTION_TX;
	struct devmem_binding b = { 0 };
	char ifname[IF_NAMESIZE] = "?", queues[128];
	struct devmem_nl *nl;
	struct devmem_err e;
	int fd, ret, err = -1;

	if (devmem_nl_open(&nl, DEVMEM_OPEN_NO_FALLBACK, &e))
		return fail("%s", e.msg);
	if (devmem_binding_get(nl, o->binding, &b, &e)) {
		nl_fail("devmem binding-get", &e, id_hint(e.err));
		goto out;
	}
	if (b.direction != want) {
		fail("--binding %u: not %s binding (direction %s)",
		     o->binding, o->listen ? "an rx" : "a tx",
		     b.direction == DEVMEM_DIRECTION_RX ? "rx" :
		     b.direction == DEVMEM_DIRECTION_TX ? "tx" : "unknown");
		goto out;
	}
	if (devmem_dmabuf_get(nl, o->binding, &fd, &e)) {
		nl_fail("devmem dmabuf-get", &e, id_hint(e.err));
		goto out;
	}
	/* the kernel installed it in this process: ours to close */
	db->fd = fd;
	db->own_fd = true;
	ret = devmem_dmabuf_size(db->fd, &db->size);
	if (ret) {
		fail("devmem dmabuf-get: fd %d is not a dmabuf (cannot get its size: %s)",
		     db->fd, ret == -EINVAL ? "size 0" : strerror(-ret));
		goto out;
	}
	if (b.dmabuf_size && b.dmabuf_size != db->size) {
		fail("--binding %u: the dmabuf fd is %" PRIu64 " bytes, binding-get says %" PRIu64,
		     o->binding, db->size, b.dmabuf_size);
		goto out;
	}
	if (!if_indextoname(b.ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "?");
	fmt_queues(queues, sizeof(queues), &b);
	if (o->listen)
		msg("using binding %u: dmabuf fd %d (%" PRIu64 " bytes), bound to %s (ifindex %u) rx queues %s",
		    o->binding, db->fd, db->size, ifname, b.ifindex,
		    queues[0] ? queues : "?");
	else
		msg("using binding %u: dmabuf fd %d (%" PRIu64 " bytes), bound to %s (ifindex %u) for tx",
		    o->binding, db->fd, db->size, ifname, b.ifindex);
	if (b.state == DEVMEM_STATE_DRAINING)
		msg(o->listen ?
		    "warning: binding %u is draining (unbound): no new packets land in its dmabuf" :
		    "warning: binding %u is draining (unbound): sendmsg will refuse it",
		    o->binding);
	err = dmabuf_map(db, o);
out:
	devmem_binding_free(&b);
	devmem_nl_close(nl);
	return err;
}
