// SPDX-License-Identifier: GPL-2.0
/*
 * devmemctl monitor: the devmem family's mgmt group, one line per binding
 * event (one JSON object per line with -j) as it happens, until SIGINT or
 * SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include <linux/devmem.h>

#include "devmemctl.h"

static const char *event_name(int cmd)
{
	switch (cmd) {
	case DEVMEM_CMD_BIND_NTF:
		return "bind";
	case DEVMEM_CMD_UNBIND_NTF:
		return "unbind";
	case DEVMEM_CMD_FREE_NTF:
		return "free";
	}
	return NULL;
}

static void event_print(int cmd, const struct devmem_binding *b, void *arg)
{
	const char *ev = event_name(cmd);

	if (!ev)
		return;
	out_obj_begin();
	out_str("event", "%s", ev);
	/* the kernel sends a freed binding's last state (draining) */
	binding_fields(b, cmd == DEVMEM_CMD_FREE_NTF);
	out_obj_end();
}

static void monitor_usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl monitor\n"
"Prints bind, unbind and free events of this network namespace's bindings\n"
"as they happen, until interrupted.\n");
}

int do_monitor(int argc, char **argv)
{
	struct pollfd pfd[2];
	struct devmem_nl *nl;
	struct devmem_err e;
	sigset_t sigs, old;
	int ret = EXIT_OK, n;

	if (argc > 0) {
		if (!is_help(argv[0]))
			return usage_unknown("argument", argv[0]);
		monitor_usage(stdout);
		return EXIT_OK;
	}
	nl = dm_open(&e);
	if (!nl)
		return dm_error(NULL, &e, NULL);
	if (devmem_ntf_subscribe(nl, &e)) {
		devmem_nl_close(nl);
		return dm_error(NULL, &e, "devmemctl monitor needs CAP_NET_ADMIN");
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	pfd[0].fd = devmem_nl_fd(nl);
	pfd[0].events = POLLIN;
	pfd[1].fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	pfd[1].events = POLLIN;
	if (pfd[1].fd < 0) {
		ret = error("signalfd: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		n = poll(pfd, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = error("poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents) {
			/* asked to stop: the signals stay blocked, as one sent
			 * twice (timeout(1) signals the child and its group)
			 * would kill us once unblocked
			 */
			close(pfd[1].fd);
			devmem_nl_close(nl);
			return EXIT_OK;
		}
		if (!pfd[0].revents)
			continue;
		n = devmem_ntf_read(nl, event_print, NULL);
		/* ENOBUFS: the socket overran, the events in between are lost */
		if (n == -ENOBUFS) {
			warn("events were lost: the kernel had more than the socket buffer holds");
		} else if (n < 0) {
			ret = error("reading events: %s", strerror(-n));
			break;
		}
	}
	close(pfd[1].fd);
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	devmem_nl_close(nl);
	return ret;
}
