// SPDX-License-Identifier: GPL-2.0
/* devmem-nc's TCP sockets: listen and accept, connect, and the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "devmem-nc.h"

static void set_timeouts(int fd, int timeout)
{
	struct timeval tv = { .tv_sec = timeout };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	getnameinfo(sa, sa->sa_family == AF_INET6 ?
			sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in),
		    host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", host, port);
	else
		snprintf(buf, len, "%s:%s", host, port);
}

int listen_on(const struct opts *o)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai, *res;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char where[80];
	int fd = -1, err = 0, one = 1, zero = 0;

	/* with no address, prefer a dual-stack IPv6 socket */
	if (!o->bind_addr)
		hints.ai_family = AF_INET6;
	err = getaddrinfo(o->bind_addr, o->port, &hints, &res);
	if (err && !o->bind_addr) {
		hints.ai_family = AF_INET;
		err = getaddrinfo(NULL, o->port, &hints, &res);
	}
	if (err)
		return fail("-a %s: %s", o->bind_addr ?: "any",
			    gai_strerror(err));

	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && !o->bind_addr)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 1))
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0 && !o->bind_addr && err == EAFNOSUPPORT) {
		struct opts v4 = *o;

		v4.bind_addr = "0.0.0.0";
		return listen_on(&v4);
	}
	if (fd < 0)
		return fail("listen on %s port %s: %s", o->bind_addr ?: "any",
			    o->port, strerror(err));

	if (!getsockname(fd, (struct sockaddr *)&ss, &sslen)) {
		format_addr((struct sockaddr *)&ss, where, sizeof(where));
		msg("listening on %s", where);
	}
	return fd;
}

int accept_one(int lfd, int timeout)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char peer[80];
	int ret, fd;

	do {
		ret = poll(&pfd, 1, timeout ? timeout * 1000 : -1);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return fail("poll: %s", strerror(errno));
	if (!ret)
		return fail("accept: no connection within %d s", timeout);
	fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
	if (fd < 0)
		return fail("accept: %s", strerror(errno));
	format_addr((struct sockaddr *)&ss, peer, sizeof(peer));
	msg("connection from %s", peer);
	set_timeouts(fd, timeout);
	return fd;
}

/* Options that take effect only before connect(): the route they pick. */
static int client_sockopts(int fd, const struct opts *o)
{
	int one = 1;

	if ((o->tx == TX_DEVMEM || o->tx == TX_ZEROCOPY) &&
	    setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0)
		return fail("SO_ZEROCOPY: %s (%s)", strerror(errno),
			    errno_name(errno));
	/* devmem: the route must leave through the binding's device */
	if (o->tx == TX_DEVMEM && o->ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->ifname,
		       strlen(o->ifname)) < 0)
		return fail("SO_BINDTODEVICE %s: %s (%s)", o->ifname,
			    strerror(errno), errno_name(errno));
	return 0;
}

int connect_to(const struct opts *o)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *ai, *res;
	int fd = -1, err;

	err = getaddrinfo(o->connect_addr, o->port, &hints, &res);
	if (err)
		return fail("-c %s: %s", o->connect_addr, gai_strerror(err));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		set_timeouts(fd, o->timeout);
		if (client_sockopts(fd, o)) {
			close(fd);
			freeaddrinfo(res);
			return -1;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return fail("connect to %s port %s: %s", o->connect_addr,
			    o->port, err == EINPROGRESS || err == EAGAIN ?
			    "timed out" : strerror(err));
	return fd;
}

/* End the stream, then wait for the server to close: it has checked it all. */
int client_finish(int fd, const struct opts *o)
{
	char drain[4096];
	ssize_t ret;

	if (shutdown(fd, SHUT_WR) < 0)
		return fail("shutdown: %s", strerror(errno));
	for (;;) {
		ret = recv(fd, drain, sizeof(drain), 0);
		if (ret > 0 || (ret < 0 && errno == EINTR))
			continue;
		if (!ret)
			return 0;
		if (errno == EAGAIN)
			return fail("server did not close the connection within %d s",
				    o->timeout);
		return fail("waiting for the server to close: %s",
			    strerror(errno));
	}
}
