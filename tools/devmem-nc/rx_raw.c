// SPDX-License-Identifier: GPL-2.0
/*
 * --raw-loop: the minimal devmem receive loop an application would write
 * by hand, without libdevmem, for the benchmark to measure the library
 * against (tools/bench/rx.sh): recvmsg(MSG_SOCK_DEVMEM), the cmsgs read
 * in place, each frag's token handed back with SO_DEVMEM_DONTNEED 128 at
 * a time.  No validation and none of the library's checks: this is the
 * floor, not an example to follow (see libdevmem(3) for that).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#define iovec linux_uapi_iovec
#include <linux/uio.h>
#undef iovec

#include "devmem-nc.h"

#ifndef MSG_SOCK_DEVMEM
#define MSG_SOCK_DEVMEM		0x2000000
#endif
#ifndef SO_DEVMEM_DONTNEED
#define SO_DEVMEM_LINEAR	78
#define SCM_DEVMEM_LINEAR	SO_DEVMEM_LINEAR
#define SO_DEVMEM_DMABUF	79
#define SCM_DEVMEM_DMABUF	SO_DEVMEM_DMABUF
#define SO_DEVMEM_DONTNEED	80
#endif

static int give_back(int fd, struct dmabuf_token *t, unsigned int n,
		     struct stats *st)
{
	int ret = n ? setsockopt(fd, SOL_SOCKET, SO_DEVMEM_DONTNEED, t,
				 n * sizeof(*t)) : 0;

	if (ret < 0)
		return fail("SO_DEVMEM_DONTNEED: %s", errno_name(errno));
	st->tokens_returned += ret;
	st->tokens_held -= n;
	return 0;
}

int recv_devmem_raw(int fd, const struct opts *o, struct dmabuf *db,
		    struct stats *st)
{
	size_t buf_len = o->chunk;
	size_t ctrl_len = CMSG_SPACE(sizeof(struct dmabuf_cmsg)) *
			  (buf_len / 64 + 64);
	struct dmabuf_token tokens[128];
	char *buf = malloc(buf_len), *ctrl = malloc(ctrl_len);
	unsigned int n = 0;
	int err = 0;

	if (!buf || !ctrl) {
		err = fail("out of memory");
		goto out;
	}
	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = buf_len };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctrl, .msg_controllen = ctrl_len,
		};
		struct cmsghdr *cm;
		ssize_t ret = recvmsg(fd, &m, MSG_SOCK_DEVMEM);
		bool devmem = false;

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			err = recv_error(o, db, st, errno);
			break;
		}
		if (!ret)
			break;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct dmabuf_cmsg *dc = (void *)CMSG_DATA(cm);

			if (cm->cmsg_level != SOL_SOCKET)
				continue;
			if (cm->cmsg_type == SCM_DEVMEM_LINEAR) {
				st->linear_bytes += dc->frag_size;
				st->linear_frags++;
				st->copied_bytes += dc->frag_size;
				devmem = true;
				continue;
			}
			if (cm->cmsg_type != SCM_DEVMEM_DMABUF)
				continue;
			devmem = true;
			st->dmabuf_bytes += dc->frag_size;
			st->dmabuf_frags++;
			st->tokens_held++;
			tokens[n].token_start = dc->frag_token;
			tokens[n].token_count = 1;
			if (++n == ARRAY_SIZE(tokens)) {
				err = give_back(fd, tokens, n, st);
				n = 0;
				if (err)
					goto out;
			}
		}
		if (!devmem) {
			st->plain_bytes += ret;
			st->copied_bytes += ret;
		}
		st->bytes += ret;
	}
	if (!err)
		err = give_back(fd, tokens, n, st);
out:
	free(ctrl);
	free(buf);
	return err;
}
