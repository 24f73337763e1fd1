/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libdevmem - devmem TCP for applications: the devmem generic netlink
 * family (with a fallback to the netdev family's bind-rx/bind-tx), the
 * receive path (MSG_SOCK_DEVMEM fragments and their tokens), the transmit
 * path (SCM_DEVMEM_DMABUF + MSG_ZEROCOPY regions and their completions),
 * dmabuf helpers and the argument parsers devmem tools share.
 *
 * Conventions: functions return 0 (or a count) on success and a negative
 * errno on failure; the library never prints and never exits.  Control
 * plane calls also fill a struct devmem_err with the kernel's extack
 * message and offending attribute when given one.  Handles are opaque.
 *
 * Thread safety: a struct devmem_nl, struct devmem_rx or struct devmem_tx
 * must be used by one thread at a time (lock it yourself, or keep one per
 * thread); different handles are independent.  The parsers and dmabuf
 * helpers keep no state and may be called from any thread.
 *
 * See libdevmem(3) and Documentation/libdevmem.rst.
 */
#ifndef LIBDEVMEM_H
#define LIBDEVMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBDEVMEM_MAJOR		0
#define LIBDEVMEM_MINOR		1

/* ---- errors ------------------------------------------------------------ */

/* What the kernel (or the library) said about a refused request. */
struct devmem_err {
	int err;		/* positive errno; 0: success */
	char msg[256];		/* extack message, or the library's reason */
	int bad_attr;		/* type of the attribute NLMSGERR_ATTR_OFFS
				 * points at in the request; 0: none */
	int missing_attr;	/* NLMSGERR_ATTR_MISS_TYPE; 0: none */
};

/* ---- control plane (devmem_nl): bindings ------------------------------- */

/* mirrors of the uAPI enums (linux/devmem.h) */
enum devmem_dir { DEVMEM_RX = 0, DEVMEM_TX = 1 };
enum devmem_life { DEVMEM_PERSISTENT = 0, DEVMEM_SOCKET = 1 };

/* devmem_nl_open() flags */
#define DEVMEM_OPEN_NETDEV	(1u << 0)	/* use the netdev family even if
						 * the devmem family exists */
#define DEVMEM_OPEN_NO_FALLBACK	(1u << 1)	/* fail with -ENOENT when the
						 * devmem family is missing */
/* Environment variable that forces DEVMEM_OPEN_NETDEV (value "1"). */
#define DEVMEM_ENV_FORCE_NETDEV	"LIBDEVMEM_FORCE_NETDEV"

struct devmem_nl;

/*
 * A generic netlink socket with extended ACKs on, talking to the devmem
 * family, or to the netdev family when the kernel has no devmem family
 * (or DEVMEM_OPEN_NETDEV / LIBDEVMEM_FORCE_NETDEV=1).  On the netdev
 * fallback only bind works, with socket lifetime: the binding lives as
 * long as this handle; everything else returns -EOPNOTSUPP with a reason.
 */
int devmem_nl_open(struct devmem_nl **nl, unsigned int flags,
		   struct devmem_err *e);
void devmem_nl_close(struct devmem_nl *nl);
int devmem_nl_fd(const struct devmem_nl *nl);
/* false on the netdev fallback */
bool devmem_nl_has_family(const struct devmem_nl *nl);

struct devmem_bind_opts {
	size_t sz;			/* sizeof(struct devmem_bind_opts) */
	uint32_t ifindex;
	int dmabuf_fd;
	enum devmem_dir direction;
	const uint32_t *queues;		/* rx: the queues; tx: none */
	unsigned int nr_queues;
	enum devmem_life lifetime;	/* netdev fallback: socket only */
};

/* *id: the new binding's id (the dmabuf id its rx fragments carry) */
int devmem_bind(struct devmem_nl *nl, const struct devmem_bind_opts *opts,
		uint32_t *id, struct devmem_err *e);
int devmem_unbind(struct devmem_nl *nl, uint32_t id, struct devmem_err *e);

struct devmem_binding {
	uint32_t id, ifindex;
	uint32_t direction, lifetime, state;	/* DEVMEM_DIRECTION_* ... */
	uint32_t owner_pid;
	uint64_t dmabuf_size;
	uint64_t create_time;
	char owner_comm[17];
	uint32_t *queues;		/* owned by the struct */
	unsigned int nr_queues;
};

/* fills *b; release with devmem_binding_free() */
int devmem_binding_get(struct devmem_nl *nl, uint32_t id,
		       struct devmem_binding *b, struct devmem_err *e);
void devmem_binding_free(struct devmem_binding *b);
/* @cb once per binding of the netns (of @ifindex if not 0); the binding
 * is valid during the call only
 */
typedef void (*devmem_binding_cb)(const struct devmem_binding *b, void *arg);
int devmem_binding_dump(struct devmem_nl *nl, uint32_t ifindex,
			devmem_binding_cb cb, void *arg, struct devmem_err *e);

/* a new close-on-exec fd of binding @id's dmabuf, in this process */
int devmem_dmabuf_get(struct devmem_nl *nl, uint32_t id, int *fd,
		      struct devmem_err *e);

/* counters: v[] indexed by DEVMEM_A_STATS_*, present has bit (1 << type) */
#define DEVMEM_STATS_SLOTS	32
struct devmem_stats {
	uint64_t present;
	uint64_t v[DEVMEM_STATS_SLOTS];
};
typedef void (*devmem_stats_cb)(const struct devmem_stats *s, void *arg);
/* one binding (@id != 0), or all (of @ifindex if not 0) */
int devmem_stats_get(struct devmem_nl *nl, uint32_t id, uint32_t ifindex,
		     devmem_stats_cb cb, void *arg, struct devmem_err *e);

/*
 * Notifications: join the mgmt group (the handle becomes non-blocking and
 * is then for notifications only); devmem_ntf_read() calls @cb for each
 * one queued (cmd: DEVMEM_CMD_BIND_NTF, _UNBIND_NTF, _FREE_NTF) and
 * returns how many, 0 if none.
 */
typedef void (*devmem_ntf_cb)(int cmd, const struct devmem_binding *b,
			      void *arg);
int devmem_ntf_subscribe(struct devmem_nl *nl, struct devmem_err *e);
int devmem_ntf_read(struct devmem_nl *nl, devmem_ntf_cb cb, void *arg);

/*
 * Raw generic netlink requests on the same machinery, for tools and tests
 * (another family such as ethtool; requests the typed calls cannot make).
 * @put adds attributes to the request (return nonzero on failure); @data
 * gets each reply's attributes.  Types are libnl's.
 */
struct nl_msg;
struct nlattr;
int devmem_genl_open(struct devmem_nl **nl, const char *family,
		     struct devmem_err *e);
int devmem_genl_family(const struct devmem_nl *nl);
typedef int (*devmem_put_cb)(struct nl_msg *msg, void *arg);
typedef void (*devmem_data_cb)(struct nlattr *attrs, int len, void *arg);
int devmem_genl_request(struct devmem_nl *nl, uint8_t cmd, uint8_t version,
			int flags, devmem_put_cb put, void *put_arg,
			devmem_data_cb data, void *data_arg,
			struct devmem_err *e);

/*
 * A request the caller built whole (its own header, flags and payload,
 * malformed on purpose if need be): sent, and its answer read like any
 * other; @a (may be NULL) says what came back.  Returns 0 or the kernel's
 * -errno; -ETIMEDOUT or -EIO when no answer came (a->answered false).
 */
struct nlmsghdr;
struct devmem_answer {
	void (*data)(struct nlmsghdr *nlh, void *arg);	/* per reply */
	void *arg;
	unsigned int nr_data;	/* data messages answering the request */
	unsigned int nr_stale;	/* messages of other requests, skipped */
	bool answered;		/* an ACK, error or end of dump came */
	bool acked;		/* ... and it said success */
};
int devmem_genl_transact(struct devmem_nl *nl, struct nl_msg *msg,
			 struct devmem_answer *a, struct devmem_err *e);
/* the libnl socket under a handle (buffer sizes, timeouts, multicast) */
struct nl_sock;
struct nl_sock *devmem_nl_sock(struct devmem_nl *nl);

/* ---- receive (devmem_rx) ----------------------------------------------- */

/* One piece of what a devmem recvmsg returned, in stream order. */
struct devmem_frag {
	const uint8_t *addr;	/* in the linear buffer or the dmabuf map */
	uint64_t offset;	/* dmabuf offset (0 for linear) */
	uint32_t len;
	uint32_t token;		/* dmabuf frags: to release */
	uint32_t dmabuf_id;	/* dmabuf frags: the binding id */
	bool linear;		/* true: bytes the kernel copied to the buffer */
};

struct devmem_rx;
struct msghdr;

/* kernel limits on one SO_DEVMEM_DONTNEED (net/core/sock.c) */
#define DEVMEM_DONTNEED_MAX_TOKENS	128	/* struct dmabuf_token each */
#define DEVMEM_DONTNEED_MAX_FRAGS	1024

/*
 * A receiver on TCP socket @fd whose flows land in the dmabuf mapped at
 * @map (@map_size bytes; NULL/0: fragments carry no address).
 * @ctrl_size: control buffer per recvmsg (0: room for 512 fragments).
 * @release_batch: release tokens automatically once this many are queued
 * (0: only on devmem_rx_flush()).
 */
int devmem_rx_new(struct devmem_rx **rx, int fd, const void *map,
		  uint64_t map_size, size_t ctrl_size,
		  unsigned int release_batch);
/* flushes queued releases (best effort); tokens still held by the
 * application return to the kernel when the socket closes
 */
void devmem_rx_free(struct devmem_rx *rx);

/*
 * recvmsg(MSG_SOCK_DEVMEM | @flags) into @buf (for linear bytes).  Returns
 * the bytes received (0: end of stream), then devmem_rx_next() walks
 * them.  -EMSGSIZE: the control buffer was too small (MSG_CTRUNC, or the
 * kernel had no room for one fragment); the fragments that fit are still
 * walkable and releasable.  -EPROTO: the cmsgs are malformed or do not
 * describe the bytes returned.  -ERANGE: a fragment lies outside the map.
 */
ssize_t devmem_rx_recv(struct devmem_rx *rx, void *buf, size_t len,
		       int flags);
/* parse a devmem recvmsg the caller made itself (@ret: its result) */
ssize_t devmem_rx_parse(struct devmem_rx *rx, const struct msghdr *m,
			ssize_t ret);
/* 1 and *f: the next fragment; 0: no more */
int devmem_rx_next(struct devmem_rx *rx, struct devmem_frag *f);
/* the last receive: plain bytes, i.e. no devmem cmsg (unbound queue) */
bool devmem_rx_plain(const struct devmem_rx *rx);

/* queue a fragment's token for release (linear frags: no-op) */
int devmem_rx_release(struct devmem_rx *rx, const struct devmem_frag *f);
/* queue every dmabuf fragment of the last receive */
int devmem_rx_release_all(struct devmem_rx *rx);
/* hand queued tokens to the kernel, in calls within its limits; returns
 * how many it freed, or -errno (what was not handed over stays queued)
 */
int devmem_rx_flush(struct devmem_rx *rx);
/* tokens queued and not yet handed to the kernel */
uint64_t devmem_rx_queued(const struct devmem_rx *rx);
/* tokens the kernel did not know (released twice, or not this socket's) */
uint64_t devmem_rx_unknown_tokens(const struct devmem_rx *rx);

#define devmem_rx_for_each_frag(rx, f) \
	while (devmem_rx_next((rx), (f)) == 1)

/* ---- transmit (devmem_tx) ---------------------------------------------- */

struct devmem_tx;

/* A region of the dmabuf the kernel is done with: free to rewrite. */
struct devmem_region {
	uint64_t offset;
	uint64_t len;
	bool copied;		/* the kernel copied instead of zero-copy */
};

/* a sender on connected TCP socket @fd, from tx binding @binding_id;
 * turns SO_ZEROCOPY on
 */
int devmem_tx_new(struct devmem_tx **tx, int fd, uint32_t binding_id);
void devmem_tx_free(struct devmem_tx *tx);
/* sendmsg(MSG_ZEROCOPY | @flags) of dmabuf [offset, offset + len): bytes
 * sent (maybe fewer), or -errno.  -ENOBUFS: too many in flight, reap.
 */
ssize_t devmem_tx_send(struct devmem_tx *tx, uint64_t offset, size_t len,
		       int flags);
/* the same from host memory (plain MSG_ZEROCOPY, no cmsg); regions
 * handed back carry the address as their offset
 */
ssize_t devmem_tx_send_host(struct devmem_tx *tx, const void *buf,
			    size_t len, int flags);
/* read queued completions (no wait); returns how many calls completed */
int devmem_tx_reap(struct devmem_tx *tx);
/* wait up to @timeout_ms (-1: forever) for at least one completion, or
 * none in flight; -ETIMEDOUT, -ECONNRESET, ...
 */
int devmem_tx_wait(struct devmem_tx *tx, int timeout_ms);
/* 1 and *r: a region free for reuse (each sent region once); 0: none */
int devmem_tx_next_free(struct devmem_tx *tx, struct devmem_region *r);
/* sendmsg calls not yet completed, and their bytes */
size_t devmem_tx_in_flight(const struct devmem_tx *tx, uint64_t *bytes);
/* bytes sent, in send order, up to the first call not yet completed:
 * every region sent before that point is free
 */
uint64_t devmem_tx_done_bytes(const struct devmem_tx *tx);

/* ---- dmabuf helpers ---------------------------------------------------- */

/* a udmabuf of @size bytes (page multiple) from a sealed memfd; fd or
 * -errno (-ENOENT: no /dev/udmabuf)
 */
int devmem_udmabuf_create(uint64_t size);
int devmem_dmabuf_size(int fd, uint64_t *size);
/* mmap MAP_SHARED; @prot as mmap's */
int devmem_dmabuf_map(int fd, uint64_t size, int prot, void **map);
int devmem_dmabuf_unmap(void *map, uint64_t size);
/* bracket CPU access: DEVMEM_SYNC_READ and/or DEVMEM_SYNC_WRITE */
#define DEVMEM_SYNC_READ	1u
#define DEVMEM_SYNC_WRITE	2u
int devmem_dmabuf_sync_begin(int fd, unsigned int dir);
int devmem_dmabuf_sync_end(int fd, unsigned int dir);

/* ---- parsers ----------------------------------------------------------- */

/*
 * Strict: decimal digits only (no sign, no space, no leading zero but
 * "0"), no empty list element.  On -EINVAL/-ERANGE @why (if not NULL)
 * says what is wrong.
 *   size:   DIGITS [ K|M|G|T [ iB ] ]  (powers of 1024; k/m/g/t too)
 *   queues: ID | ID-ID [ ,queues ]     -> sorted, each once, <= max_id
 */
int devmem_parse_u64(const char *s, uint64_t *v);
int devmem_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *v);
int devmem_parse_size(const char *s, uint64_t *v, char *why, size_t why_len);
int devmem_parse_queues(const char *s, uint32_t max_id, uint32_t **queues,
			unsigned int *nr, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif /* LIBDEVMEM_H */
