// SPDX-License-Identifier: GPL-2.0
/*
 * devmem-nc's receivers without devmem TCP, for the benchmark to compare
 * against: plain recv(), bounce (recv() then memcpy into the dmabuf) and
 * trunc (recv(MSG_TRUNC), bytes discarded).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "devmem-nc.h"

int recv_plain(int fd, const struct opts *o, struct dmabuf *db,
		      struct stats *st)
{
	int flags = o->mode == MODE_TRUNC ? MSG_TRUNC : 0;
	size_t buf_len = o->chunk;
	struct progress pg;
	uint8_t *buf;
	int err = 0;

	buf = malloc(buf_len);
	if (!buf)
		return fail("out of memory");

	progress_init(&pg, o);
	for (;;) {
		ssize_t ret = recv(fd, buf, buf_len, flags);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EFAULT && o->expect_efault) {
				st->efault = true;
				st->efault_offset = st->bytes;
				msg("recv: EFAULT after %" PRIu64 " bytes, as expected: the flow landed on a dmabuf-bound queue",
				    st->bytes);
				break;
			}
			err = recv_error(o, db, st, errno);
			break;
		}
		if (!ret)
			break;

		if (o->mode == MODE_PLAIN) {
			validate(st, o, buf, st->bytes, ret,
				 "buffer offset", 0);
		} else if (o->mode == MODE_BOUNCE) {
			/* what applications do without devmem TCP */
			size_t done = 0;

			validate(st, o, buf, st->bytes, ret,
				 "buffer offset", 0);
			err = dmabuf_sync(db, true, DEVMEM_SYNC_WRITE);
			if (err)
				break;
			while (done < (size_t)ret) {
				size_t n = ret - done;

				if (n > db->size - db->bounce_pos)
					n = db->size - db->bounce_pos;
				memcpy(db->map + db->bounce_pos, buf + done, n);
				st->copied_bytes += n;
				done += n;
				db->bounce_pos = (db->bounce_pos + n) %
						 db->size;
			}
			err = dmabuf_sync(db, false, DEVMEM_SYNC_WRITE);
			if (err)
				break;
		}
		st->bytes += ret;
		st->plain_bytes += ret;
		/* recv() copied them into buf, unless MSG_TRUNC dropped them */
		if (o->mode != MODE_TRUNC)
			st->copied_bytes += ret;
		progress_tick(&pg, "received", st->bytes, o->size);
	}
	progress_done(&pg);
	if (!err && o->expect_efault && !st->efault)
		err = fail("expected EFAULT (flow on a dmabuf-bound queue), but %" PRIu64 " bytes arrived as ordinary data",
			   st->bytes);
	free(buf);
	return err;
}
