// SPDX-License-Identifier: GPL-2.0
/* devmem-nc options: what goes with what, once they are all read. */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "devmem-nc.h"

/* -i, -b and the binding options of the client, per --tx mode */
void check_client_opts(const struct opts *o)
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
	if (o->nr_urgent && o->tx != TX_COPY)
		usage_error("--urgent only applies to --tx copy");
	if (o->nr_urgent && o->urgent[o->nr_urgent - 1] >= o->size)
		usage_error("--urgent: offset %" PRIu64 " is not below -s SIZE",
			    o->urgent[o->nr_urgent - 1]);
	if (o->raw_loop && o->tx != TX_DEVMEM)
		usage_error("--raw-loop only applies to --tx devmem");
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

/* the server's options, per --mode */
void check_server_opts(const struct opts *o)
{
	if (o->client_opt)
		usage_error("%s is a client option (-c)", o->client_opt);

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
	if (o->raw_loop && (o->mode != MODE_DEVMEM || o->validate || o->hoard))
		usage_error("--raw-loop needs --mode devmem and --no-validate, and no --hoard");
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

