// SPDX-License-Identifier: GPL-2.0
/* devmem-nc -l: bind (or attach), accept one connection, receive, report. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "devmem-nc.h"

/* SIGURG of the connection: each time the peer's urgent pointer moved */
static volatile sig_atomic_t urgent_signals;

static void on_sigurg(int sig)
{
	urgent_signals++;
}

/* Count urgent signals; SA_RESTART, and the receive loops retry EINTR */
static void count_urgent(int fd)
{
	struct sigaction sa = { .sa_handler = on_sigurg, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGURG, &sa, NULL) || fcntl(fd, F_SETOWN, getpid()))
		msg("warning: cannot count urgent signals: %s", strerror(errno));
}

int run_server(const struct opts *o)
{
	struct dmabuf db = { .fd = -1 };
	struct stats st = { 0 };
	struct devmem_nl *nl = NULL;
	int lfd = -1, fd = -1, err = 0;
	double start, user0, sys0;

	st.family = "none";
	if (o->mode == MODE_DEVMEM && o->binding_set) {
		err = binding_attach(o, &db);
		if (err)
			goto out;
		/* every frag must come from this binding */
		st.dmabuf_id = st.binding_id = o->binding;
		st.have_dmabuf_id = st.have_binding_id = true;
	} else if (o->mode == MODE_DEVMEM || o->mode == MODE_BOUNCE) {
		err = dmabuf_setup(&db, o);
		if (err)
			goto out;
	}
	if (o->mode == MODE_DEVMEM && !o->no_bind && !o->binding_set) {
		/*
		 * Held open until exit: with lifetime socket, closing it
		 * unbinds the dmabuf.
		 */
		nl = bind_dmabuf(o, db.fd, &st.dmabuf_id, &st.family);
		if (!nl) {
			err = -1;
			goto out;
		}
		st.binding_id = st.dmabuf_id;
		st.have_dmabuf_id = st.have_binding_id = true;
		msg("bound dmabuf id %u (%" PRIu64 " bytes) to %s rx queues %s (%s family, lifetime %s)",
		    st.dmabuf_id, db.size, o->ifname, o->queues_arg,
		    st.family, lifetime_names[o->lifetime]);
		if (o->lifetime == DEVMEM_LIFETIME_PERSISTENT)
			msg("binding %u is persistent: it stays after devmem-nc exits; unbind it with the devmem family: tools/ynl devmem --do unbind --json '{\"id\": %u}'",
			    st.binding_id, st.binding_id);
	}

	lfd = listen_on(o);
	if (lfd < 0) {
		err = -1;
		goto out;
	}
	fd = accept_one(lfd, o->timeout);
	if (fd < 0) {
		err = -1;
		goto out;
	}
	count_urgent(fd);
	cpu_times(&user0, &sys0);
	close(lfd);
	lfd = -1;

	start = now();
	if (o->mode == MODE_DEVMEM && o->raw_loop)
		err = recv_devmem_raw(fd, o, &db, &st);
	else if (o->mode == MODE_DEVMEM)
		err = recv_devmem(fd, o, &db, &st);
	else
		err = recv_plain(fd, o, &db, &st);
	st.seconds = now() - start;
	st.urgent_signals = urgent_signals;
	cpu_times(&st.cpu_user, &st.cpu_sys);
	st.cpu_user -= user0;
	st.cpu_sys -= sys0;

	if (!err && o->size_set && !st.efault && st.bytes != o->size)
		err = fail("received %" PRIu64 " bytes, expected %" PRIu64,
			   st.bytes, o->size);
	if (!err && o->mode == MODE_DEVMEM && st.plain_bytes)
		msg("warning: %" PRIu64 " bytes arrived as ordinary data: the flow was not steered to a bound queue",
		    st.plain_bytes);
out:
	print_server_summary(o, &st, err);
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	if (nl)
		devmem_nl_close(nl);
	dmabuf_teardown(&db);
	return err || st.errors ? 1 : 0;
}
