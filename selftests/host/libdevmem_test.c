// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of libdevmem: the parsers, the devmem recvmsg fragment
 * iterator on crafted control messages (well-formed, truncated and
 * malformed), token release batching within the kernel's per-call limits
 * (SO_DEVMEM_DONTNEED is intercepted here: the host kernel need not have
 * devmem), and TX completion range tracking.  Built with ASan/UBSan; TAP
 * output from the kselftest harness.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#define iovec linux_uapi_iovec
#include <linux/uio.h>
#undef iovec

#include "kselftest_harness.h"
#include "libdevmem.h"
#include "internal.h"

#ifndef SO_DEVMEM_LINEAR
#define SO_DEVMEM_LINEAR	78
#define SO_DEVMEM_DMABUF	79
#define SO_DEVMEM_DONTNEED	80
#endif

/* ---- SO_DEVMEM_DONTNEED and recvmsg, intercepted ---- */

#define FAKE_FD		1000
#define MAX_CALLS	256

static struct {
	unsigned int calls;
	unsigned int nr[MAX_CALLS];		/* dmabuf_token entries */
	unsigned int frags[MAX_CALLS];
	int fail_call;				/* this call fails ENOMEM (-1: none) */
	unsigned int short_by;			/* frees this many fewer */
	uint8_t released[65536];		/* per token */
	int recv_errno;
	struct msghdr *recv_msg;		/* recvmsg returns this */
	ssize_t recv_ret;
} fake = { .fail_call = -1 };

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	const struct dmabuf_token *t = val;
	unsigned int i, j, frags = 0;

	if (fd != FAKE_FD || level != SOL_SOCKET || name != SO_DEVMEM_DONTNEED)
		return syscall(SYS_setsockopt, fd, level, name, val, len);
	/* the kernel's limits: net/core/sock.c sock_devmem_dontneed() */
	if (len % sizeof(*t) || len > sizeof(*t) * 128) {
		errno = EINVAL;
		return -1;
	}
	if ((int)fake.calls == fake.fail_call) {
		fake.calls++;
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < len / sizeof(*t); i++)
		for (j = 0; j < t[i].token_count; j++) {
			if (++frags > 1024)
				goto out;
			fake.released[t[i].token_start + j]++;
		}
out:
	if (fake.calls < MAX_CALLS) {
		fake.nr[fake.calls] = len / sizeof(*t);
		fake.frags[fake.calls] = frags;
	}
	fake.calls++;
	return frags - fake.short_by;
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	if (fd != FAKE_FD)
		return syscall(SYS_recvmsg, fd, m, flags);
	if (fake.recv_msg) {
		if (m->msg_controllen < fake.recv_msg->msg_controllen)
			abort();
		memcpy(m->msg_control, fake.recv_msg->msg_control,
		       fake.recv_msg->msg_controllen);
		m->msg_controllen = fake.recv_msg->msg_controllen;
		m->msg_flags = 0;
		return fake.recv_ret;
	}
	errno = fake.recv_errno;
	return -1;
}

static void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.fail_call = -1;
}

/* ---- parsers ---- */

TEST(parse_u64_strict)
{
	uint64_t v;
	uint32_t u;

	ASSERT_EQ(0, devmem_parse_u64("0", &v));
	ASSERT_EQ(0, v);
	ASSERT_EQ(0, devmem_parse_u64("18446744073709551615", &v));
	ASSERT_EQ(UINT64_MAX, v);
	ASSERT_EQ(-ERANGE, devmem_parse_u64("18446744073709551616", &v));
	ASSERT_EQ(-EINVAL, devmem_parse_u64("010", &v));
	ASSERT_EQ(-EINVAL, devmem_parse_u64(" 1", &v));
	ASSERT_EQ(-EINVAL, devmem_parse_u64("+1", &v));
	ASSERT_EQ(-EINVAL, devmem_parse_u64("-1", &v));
	ASSERT_EQ(-EINVAL, devmem_parse_u64("", &v));
	ASSERT_EQ(-EINVAL, devmem_parse_u64("1 ", &v));
	ASSERT_EQ(-EINVAL, devmem_parse_u64("0x10", &v));
	ASSERT_EQ(-EINVAL, devmem_parse_u64(NULL, &v));
	ASSERT_EQ(0, devmem_parse_u32("4095", 0, 4095, &u));
	ASSERT_EQ(4095, u);
	ASSERT_EQ(-ERANGE, devmem_parse_u32("4096", 0, 4095, &u));
	ASSERT_EQ(-ERANGE, devmem_parse_u32("0", 1, 9, &u));
	ASSERT_EQ(-ERANGE, devmem_parse_u32("4294967296", 0, UINT32_MAX, &u));
}

TEST(parse_size_units)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{ "4096", 4096 }, { "4K", 4096 }, { "4KiB", 4096 },
		{ "2m", 2 << 20 }, { "1G", 1 << 30 }, { "16T", 16ULL << 40 },
		{ "0", 0 },
	};
	static const char * const bad[] = {
		"4MB", "4KB", "K", "4 K", " 4K", "+4K", "-4K", "4k ", "04K",
		"4Ki", "4KiBB", "0x10", "4P", "", "1,5K",
	};
	char why[128];
	uint64_t v;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		ASSERT_EQ(0, devmem_parse_size(good[i].s, &v, why, sizeof(why)))
			TH_LOG("%s", good[i].s);
		ASSERT_EQ(good[i].v, v) TH_LOG("%s", good[i].s);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(-EINVAL, devmem_parse_size(bad[i], &v, why, sizeof(why)))
			TH_LOG("'%s' accepted", bad[i]);
		ASSERT_STREQ("expected bytes, with a K, M, G or T suffix (powers of 1024)",
			     why);
	}
	ASSERT_EQ(-ERANGE, devmem_parse_size("16777216T", &v, why, sizeof(why)));
	ASSERT_EQ(0, devmem_parse_size("16777215T", &v, NULL, 0));
}

static void expect_queues(struct __test_metadata *_metadata, const char *s,
			  const uint32_t *want, unsigned int n)
{
	uint32_t *q;
	unsigned int nr, i;
	char why[128] = "";

	ASSERT_EQ(0, devmem_parse_queues(s, 4095, &q, &nr, why, sizeof(why)))
		TH_LOG("%s: %s", s, why);
	ASSERT_EQ(n, nr) TH_LOG("%s", s);
	for (i = 0; i < n; i++)
		ASSERT_EQ(want[i], q[i]) TH_LOG("%s [%u]", s, i);
	free(q);
}

static void expect_bad_queues(struct __test_metadata *_metadata,
			      const char *s, int err, const char *why_want)
{
	uint32_t *q = (uint32_t *)1;
	unsigned int nr = 7;
	char why[128] = "";

	ASSERT_EQ(err, devmem_parse_queues(s, 4095, &q, &nr, why, sizeof(why)))
		TH_LOG("'%s'", s);
	ASSERT_STREQ(why_want, why) TH_LOG("'%s'", s);
	ASSERT_EQ(NULL, q);
	ASSERT_EQ(0, nr);
}

TEST(parse_queues_lists)
{
	static const char form[] =
		"expected queue ids and ranges, like 2, 2-3 or 1,4-5";
	static const uint32_t two[] = { 2 }, sorted[] = { 1, 2, 4 },
		r[] = { 0, 1, 2, 3, 9 };
	static const char * const bad_form[] = {
		"1,,2", " 1", "+1", "01", "1-", "-1", "2,", ",2", "", "1 ",
		"1-2-3", "a", "1;2", "0x1",
	};
	uint32_t *q;
	unsigned int nr, i;

	expect_queues(_metadata, "2", two, 1);
	expect_queues(_metadata, "4,1-2", sorted, 3);
	expect_queues(_metadata, "9,0-3", r, 5);
	ASSERT_EQ(0, devmem_parse_queues("0-4095", 4095, &q, &nr, NULL, 0));
	ASSERT_EQ(4096, nr);
	ASSERT_EQ(4095, q[4095]);
	free(q);
	for (i = 0; i < ARRAY_SIZE(bad_form); i++)
		expect_bad_queues(_metadata, bad_form[i], -EINVAL, form);
	expect_bad_queues(_metadata, "3-2", -EINVAL,
			  "range 3-2 ends before it starts");
	expect_bad_queues(_metadata, "1,0-3", -EINVAL,
			  "queue 1 is listed twice");
	expect_bad_queues(_metadata, "5000", -ERANGE, "queue ids go up to 4095");
	expect_bad_queues(_metadata, "1-99999999999999999999", -ERANGE,
			  "queue ids go up to 4095");
}

/* ---- the fragment iterator on crafted control messages ---- */

struct crafted {
	union {
		uint8_t buf[4096];
		struct cmsghdr align;
	} ctrl;
	size_t len;
	uint8_t data[4096];
	struct iovec iov;
	struct msghdr m;
};

static void craft_init(struct crafted *c, size_t data_len)
{
	memset(c, 0, sizeof(*c));
	c->iov.iov_base = c->data;
	c->iov.iov_len = data_len;
	c->m.msg_iov = &c->iov;
	c->m.msg_iovlen = 1;
	c->m.msg_control = c->ctrl.buf;
}

/* append a cmsg whose cmsg_len claims @claim (0: the real length) */
static struct cmsghdr *craft_add(struct crafted *c, int level, int type,
				 const void *data, size_t len, size_t claim)
{
	struct cmsghdr *cm = (struct cmsghdr *)(c->ctrl.buf + c->len);

	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = claim ?: CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	c->len += CMSG_SPACE(len);
	c->m.msg_controllen = c->len;
	return cm;
}

static void craft_frag(struct crafted *c, int type, uint64_t off, uint32_t size,
		       uint32_t token, uint32_t id)
{
	struct dmabuf_cmsg dc = {
		.frag_offset = off, .frag_size = size,
		.frag_token = token, .dmabuf_id = id,
	};

	craft_add(c, SOL_SOCKET, type, &dc, sizeof(dc), 0);
}

static uint8_t dmabuf[1 << 16];

TEST(rx_linear_and_dmabuf_frags_in_order)
{
	struct devmem_rx *rx;
	struct devmem_frag f;
	struct crafted c;
	int ts = 42;

	ASSERT_EQ(0, devmem_rx_new(&rx, FAKE_FD, dmabuf, sizeof(dmabuf), 0, 0));
	craft_init(&c, 200);
	craft_frag(&c, SO_DEVMEM_LINEAR, 0, 66, 0, 0);
	/* a cmsg of another kind between them is skipped */
	craft_add(&c, SOL_SOCKET, SO_TIMESTAMP, &ts, sizeof(ts), 0);
	craft_frag(&c, SO_DEVMEM_DMABUF, 8192, 1000, 7, 3);
	craft_frag(&c, SO_DEVMEM_DMABUF, 0, 4096, 8, 3);
	ASSERT_EQ(5162, devmem_rx_parse(rx, &c.m, 5162));
	ASSERT_FALSE(devmem_rx_plain(rx));

	ASSERT_EQ(1, devmem_rx_next(rx, &f));
	ASSERT_TRUE(f.linear);
	ASSERT_EQ(66, f.len);
	ASSERT_EQ((const uint8_t *)c.data, f.addr);
	ASSERT_EQ(1, devmem_rx_next(rx, &f));
	ASSERT_FALSE(f.linear);
	ASSERT_EQ(dmabuf + 8192, f.addr);
	ASSERT_EQ(8192, f.offset);
	ASSERT_EQ(1000, f.len);
	ASSERT_EQ(7, f.token);
	ASSERT_EQ(3, f.dmabuf_id);
	ASSERT_EQ(1, devmem_rx_next(rx, &f));
	ASSERT_EQ((const uint8_t *)dmabuf, f.addr);
	ASSERT_EQ(8, f.token);
	ASSERT_EQ(0, devmem_rx_next(rx, &f));

	ASSERT_EQ(0, devmem_rx_release_all(rx));
	ASSERT_EQ(2, devmem_rx_queued(rx));
	fake_reset();
	ASSERT_EQ(2, devmem_rx_flush(rx));
	/* consecutive tokens 7 and 8 go as one run */
	ASSERT_EQ(1, fake.calls);
	ASSERT_EQ(1, fake.nr[0]);
	ASSERT_EQ(1, fake.released[7]);
	ASSERT_EQ(1, fake.released[8]);
	ASSERT_EQ(0, devmem_rx_queued(rx));
	devmem_rx_free(rx);
}

TEST(rx_plain_bytes_without_devmem_cmsgs)
{
	struct devmem_rx *rx;
	struct devmem_frag f;
	struct crafted c;

	ASSERT_EQ(0, devmem_rx_new(&rx, FAKE_FD, dmabuf, sizeof(dmabuf), 0, 0));
	craft_init(&c, 100);
	ASSERT_EQ(100, devmem_rx_parse(rx, &c.m, 100));
	ASSERT_TRUE(devmem_rx_plain(rx));
	ASSERT_EQ(1, devmem_rx_next(rx, &f));
	ASSERT_TRUE(f.linear);
	ASSERT_EQ(100, f.len);
	ASSERT_EQ(0, devmem_rx_next(rx, &f));
	/* end of stream: nothing to walk */
	ASSERT_EQ(0, devmem_rx_parse(rx, &c.m, 0));
	ASSERT_EQ(0, devmem_rx_next(rx, &f));
	devmem_rx_free(rx);
}

TEST(rx_malformed_cmsgs_are_refused)
{
	struct dmabuf_cmsg dc = { .frag_size = 10 };
	struct devmem_rx *rx;
	struct cmsghdr *cm;
	struct crafted c;

	ASSERT_EQ(0, devmem_rx_new(&rx, FAKE_FD, dmabuf, sizeof(dmabuf), 0, 0));

	/* a devmem cmsg too short for struct dmabuf_cmsg */
	craft_init(&c, 100);
	craft_add(&c, SOL_SOCKET, SO_DEVMEM_DMABUF, &dc, 8, 0);
	ASSERT_EQ(-EPROTO, devmem_rx_parse(rx, &c.m, 10));

	/* cmsg_len past the end of the control data */
	craft_init(&c, 100);
	cm = craft_add(&c, SOL_SOCKET, SO_DEVMEM_DMABUF, &dc, sizeof(dc), 0);
	c.m.msg_controllen = CMSG_LEN(sizeof(dc)) - 4;
	cm->cmsg_len = CMSG_LEN(sizeof(dc));
	ASSERT_GT(0, devmem_rx_parse(rx, &c.m, 10));

	/* the cmsgs describe more than recvmsg returned */
	craft_init(&c, 100);
	craft_frag(&c, SO_DEVMEM_DMABUF, 0, 100, 1, 1);
	ASSERT_EQ(-EPROTO, devmem_rx_parse(rx, &c.m, 99));
	/* ... or less */
	ASSERT_EQ(-EPROTO, devmem_rx_parse(rx, &c.m, 101));

	/* a linear frag longer than the buffer the caller gave */
	craft_init(&c, 50);
	craft_frag(&c, SO_DEVMEM_LINEAR, 0, 60, 0, 0);
	ASSERT_EQ(-EPROTO, devmem_rx_parse(rx, &c.m, 60));

	/* a dmabuf frag outside the caller's mapping: still releasable */
	craft_init(&c, 50);
	craft_frag(&c, SO_DEVMEM_DMABUF, sizeof(dmabuf) - 10, 20, 5, 1);
	ASSERT_EQ(-ERANGE, devmem_rx_parse(rx, &c.m, 20));
	ASSERT_EQ(0, devmem_rx_release_all(rx));
	ASSERT_EQ(1, devmem_rx_queued(rx));
	craft_init(&c, 50);
	craft_frag(&c, SO_DEVMEM_DMABUF, UINT64_MAX - 5, 20, 6, 1);
	ASSERT_EQ(-ERANGE, devmem_rx_parse(rx, &c.m, 20));

	/* a cmsg_len below a header */
	craft_init(&c, 50);
	cm = craft_add(&c, SOL_SOCKET, SO_DEVMEM_DMABUF, &dc, sizeof(dc), 4);
	ASSERT_EQ(-EPROTO, devmem_rx_parse(rx, &c.m, 10));
	fake_reset();
	devmem_rx_free(rx);
	/* free handed the queued token back */
	ASSERT_EQ(1, fake.released[5]);
}

TEST(rx_truncated_control_data_is_reported)
{
	struct devmem_rx *rx;
	struct devmem_frag f;
	struct crafted c;
	char buf[64];

	ASSERT_EQ(0, devmem_rx_new(&rx, FAKE_FD, dmabuf, sizeof(dmabuf), 0, 0));
	craft_init(&c, 100);
	craft_frag(&c, SO_DEVMEM_DMABUF, 4096, 100, 9, 1);
	c.m.msg_flags = MSG_CTRUNC;
	ASSERT_EQ(-EMSGSIZE, devmem_rx_parse(rx, &c.m, 300));
	/* what did fit can be walked and released */
	ASSERT_EQ(1, devmem_rx_next(rx, &f));
	ASSERT_EQ(9, f.token);
	ASSERT_EQ(0, devmem_rx_release(rx, &f));
	ASSERT_EQ(1, devmem_rx_queued(rx));

	/* the kernel had no room for one cmsg: ETOOSMALL (525) */
	fake.recv_errno = 525;
	ASSERT_EQ(-EMSGSIZE, devmem_rx_recv(rx, buf, sizeof(buf), 0));
	fake.recv_errno = EAGAIN;
	ASSERT_EQ(-EAGAIN, devmem_rx_recv(rx, buf, sizeof(buf), 0));
	devmem_rx_free(rx);
}

/* ---- token release batching ---- */

static void queue_tokens(struct __test_metadata *_metadata,
			 struct devmem_rx *rx, unsigned int n)
{
	struct devmem_frag f = { 0 };
	unsigned int i;

	/* runs of 3 consecutive tokens, then a gap: many runs */
	for (i = 0; i < n; i++) {
		f.token = i / 3 * 4 + i % 3;
		ASSERT_EQ(0, devmem_rx_release(rx, &f));
	}
}

TEST(rx_release_within_kernel_limits)
{
	struct devmem_rx *rx;
	struct devmem_frag f = { 0 };
	unsigned int i, total = 0;

	ASSERT_EQ(0, devmem_rx_new(&rx, FAKE_FD, NULL, 0, 0, 0));
	fake_reset();
	queue_tokens(_metadata, rx, 3000);
	ASSERT_EQ(3000, devmem_rx_queued(rx));
	ASSERT_EQ(3000, devmem_rx_flush(rx));
	ASSERT_LT(1, fake.calls);
	for (i = 0; i < fake.calls; i++) {
		ASSERT_GE(128, fake.nr[i]);
		ASSERT_GE(1024, fake.frags[i]);
		total += fake.frags[i];
	}
	ASSERT_EQ(3000, total);
	for (i = 0; i < 3000; i++)
		ASSERT_EQ(1, fake.released[i / 3 * 4 + i % 3]) TH_LOG("token %u", i);

	/* one long run splits at 1024 frags per call */
	fake_reset();
	for (i = 0; i < 5000; i++) {
		f.token = i;
		ASSERT_EQ(0, devmem_rx_release(rx, &f));
	}
	ASSERT_EQ(5000, devmem_rx_flush(rx));
	ASSERT_EQ(5, fake.calls);
	ASSERT_EQ(1024, fake.frags[0]);
	for (i = 0; i < 5000; i++)
		ASSERT_EQ(1, fake.released[i]);
	devmem_rx_free(rx);
}

TEST(rx_failed_release_keeps_what_was_not_handed_over)
{
	struct devmem_rx *rx;
	unsigned int i;

	ASSERT_EQ(0, devmem_rx_new(&rx, FAKE_FD, NULL, 0, 0, 0));
	fake_reset();
	fake.fail_call = 1;
	queue_tokens(_metadata, rx, 3000);
	ASSERT_EQ(-ENOMEM, devmem_rx_flush(rx));
	ASSERT_EQ(3000 - fake.frags[0], devmem_rx_queued(rx));
	fake.fail_call = -1;
	ASSERT_EQ(3000 - fake.frags[0], devmem_rx_flush(rx));
	ASSERT_EQ(0, devmem_rx_queued(rx));
	for (i = 0; i < 3000; i++)
		ASSERT_EQ(1, fake.released[i / 3 * 4 + i % 3]) TH_LOG("token %u", i);
	devmem_rx_free(rx);
}

TEST(rx_short_release_counts_unknown_tokens)
{
	struct devmem_rx *rx;

	ASSERT_EQ(0, devmem_rx_new(&rx, FAKE_FD, NULL, 0, 0, 0));
	fake_reset();
	fake.short_by = 2;
	queue_tokens(_metadata, rx, 10);
	ASSERT_EQ(8, devmem_rx_flush(rx));
	ASSERT_EQ(2, devmem_rx_unknown_tokens(rx));
	ASSERT_EQ(0, devmem_rx_queued(rx));
	devmem_rx_free(rx);
}

TEST(rx_release_batch_flushes_automatically)
{
	struct devmem_frag f = { 0 };
	struct devmem_rx *rx;
	struct crafted c;
	unsigned int i;
	char buf[16];

	ASSERT_EQ(0, devmem_rx_new(&rx, FAKE_FD, dmabuf, sizeof(dmabuf), 0, 4));
	/* linear frags hold no token */
	f.linear = true;
	ASSERT_EQ(0, devmem_rx_release(rx, &f));
	ASSERT_EQ(0, devmem_rx_queued(rx));

	fake_reset();
	for (i = 0; i < 3; i++) {
		craft_init(&c, 0);
		craft_frag(&c, SO_DEVMEM_DMABUF, i * 4096, 4096, 10 + 2 * i, 1);
		craft_frag(&c, SO_DEVMEM_DMABUF, i * 4096 + 8192, 4096, 11 + 2 * i, 1);
		fake.recv_msg = &c.m;
		fake.recv_ret = 8192;
		ASSERT_EQ(8192, devmem_rx_recv(rx, buf, sizeof(buf), 0));
		ASSERT_EQ(0, devmem_rx_release_all(rx));
	}
	/* the batch of 4 went at the third receive, as one run */
	ASSERT_EQ(1, fake.calls);
	ASSERT_EQ(1, fake.nr[0]);
	ASSERT_EQ(4, fake.frags[0]);
	ASSERT_EQ(2, devmem_rx_queued(rx));
	ASSERT_EQ(2, devmem_rx_flush(rx));
	for (i = 10; i < 16; i++)
		ASSERT_EQ(1, fake.released[i]);
	devmem_rx_free(rx);
}

/* ---- TX completions ---- */

static void expect_free(struct __test_metadata *_metadata,
			struct devmem_tx *tx, uint64_t off, uint64_t len)
{
	struct devmem_region r;

	ASSERT_EQ(1, devmem_tx_next_free(tx, &r));
	ASSERT_EQ(off, r.offset);
	ASSERT_EQ(len, r.len);
}

TEST(tx_completion_ranges)
{
	struct devmem_region r;
	struct devmem_tx *tx;
	uint64_t bytes;
	unsigned int i;

	ASSERT_EQ(0, devmem_tx_new(&tx, -1, 1));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, dm_tx_track(tx, i * 1000, 1000));
	ASSERT_EQ(5, devmem_tx_in_flight(tx, &bytes));
	ASSERT_EQ(5000, bytes);
	ASSERT_EQ(0, devmem_tx_next_free(tx, &r));

	/* out of order: calls 1-2, then 0 */
	ASSERT_EQ(2, dm_tx_complete(tx, 1, 2, false));
	expect_free(_metadata, tx, 1000, 1000);
	expect_free(_metadata, tx, 2000, 1000);
	ASSERT_EQ(0, devmem_tx_next_free(tx, &r));
	ASSERT_EQ(5, devmem_tx_in_flight(tx, &bytes));
	ASSERT_EQ(3000, bytes);
	/* call 0 holds the in-order prefix back */
	ASSERT_EQ(0, devmem_tx_done_bytes(tx));
	/* twice, or not in flight: refused, nothing changes */
	ASSERT_EQ(-EPROTO, dm_tx_complete(tx, 2, 2, false));
	ASSERT_EQ(-EPROTO, dm_tx_complete(tx, 0, 1, false));
	ASSERT_EQ(-EPROTO, dm_tx_complete(tx, 4, 5, false));
	ASSERT_EQ(-EPROTO, dm_tx_complete(tx, 3, 2, false));
	ASSERT_EQ(1, dm_tx_complete(tx, 0, 0, true));
	ASSERT_EQ(1, devmem_tx_next_free(tx, &r));
	ASSERT_EQ(0, r.offset);
	ASSERT_TRUE(r.copied);
	ASSERT_EQ(2, devmem_tx_in_flight(tx, NULL));
	ASSERT_EQ(3000, devmem_tx_done_bytes(tx));
	/* numbering continues after the completed head */
	ASSERT_EQ(0, dm_tx_track(tx, 5000, 10));
	ASSERT_EQ(3, dm_tx_complete(tx, 3, 5, false));
	expect_free(_metadata, tx, 3000, 1000);
	expect_free(_metadata, tx, 4000, 1000);
	expect_free(_metadata, tx, 5000, 10);
	ASSERT_EQ(0, devmem_tx_in_flight(tx, &bytes));
	ASSERT_EQ(0, bytes);
	ASSERT_EQ(5010, devmem_tx_done_bytes(tx));
	ASSERT_EQ(-EPROTO, dm_tx_complete(tx, 6, 6, false));
	devmem_tx_free(tx);
}

TEST(tx_many_calls_in_flight)
{
	struct devmem_region r;
	struct devmem_tx *tx;
	unsigned int i, n = 0;

	ASSERT_EQ(0, devmem_tx_new(&tx, -1, 1));
	/* the ring grows and compacts; completions arrive in pairs */
	for (i = 0; i < 10000; i++) {
		ASSERT_EQ(0, dm_tx_track(tx, (uint64_t)i * 64, 64));
		if (i % 2)
			ASSERT_EQ(2, dm_tx_complete(tx, i - 1, i, false));
		while (devmem_tx_next_free(tx, &r) == 1) {
			ASSERT_EQ((uint64_t)n * 64, r.offset);
			n++;
		}
	}
	ASSERT_EQ(10000, n);
	ASSERT_EQ(0, devmem_tx_in_flight(tx, NULL));
	devmem_tx_free(tx);
}

TEST_HARNESS_MAIN
