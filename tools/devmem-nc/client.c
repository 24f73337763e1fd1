// SPDX-License-Identifier: GPL-2.0
/* devmem-nc -c: the window (and tx binding), connect, send, report. */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "devmem-nc.h"

/*
 * The window and, for devmem, the tx binding.  A binding of lifetime socket
 * lives as long as *nl, which the caller closes after the TCP socket.
 */
static int tx_setup(const struct opts *o, struct tx_buf *tb,
		    struct tx_stats *st, struct devmem_nl **nl)
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
	*nl = bind_dmabuf(o, tb->db.fd, &st->binding_id, &st->family);
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

int run_client(const struct opts *o)
{
	struct tx_buf tb = { .db = { .fd = -1 } };
	struct tx_stats st = { .family = "none" };
	struct devmem_nl *nl = NULL;
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
	if (o->tx == TX_DEVMEM && o->raw_loop)
		err = send_zerocopy_raw(fd, o, &tb, &st);
	else if (o->tx == TX_DEVMEM || o->tx == TX_ZEROCOPY)
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
		devmem_nl_close(nl);
	tx_teardown(&tb);
	return err ? 1 : 0;
}
