/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/devmem.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_DEVMEM_H
#define _UAPI_LINUX_DEVMEM_H

#define DEVMEM_FAMILY_NAME	"devmem"
#define DEVMEM_FAMILY_VERSION	1

/**
 * enum devmem_direction - Direction of the data the dmabuf carries.
 * @DEVMEM_DIRECTION_RX: Received payloads land in the dmabuf.
 * @DEVMEM_DIRECTION_TX: Payloads are transmitted from the dmabuf: sockets of
 *   the device send from it with sendmsg(MSG_ZEROCOPY) and an
 *   SCM_DEVMEM_DMABUF control message carrying the binding id, the iov bases
 *   being offsets into the dmabuf.
 */
enum devmem_direction {
	DEVMEM_DIRECTION_RX,
	DEVMEM_DIRECTION_TX,
};

/**
 * enum devmem_lifetime - What keeps a binding alive.
 * @DEVMEM_LIFETIME_PERSISTENT: The binding lives until it is unbound or its
 *   device goes away.
 * @DEVMEM_LIFETIME_SOCKET: The binding is also unbound when the netlink socket
 *   that made it is closed (what the netdev family's bind-rx does).
 */
enum devmem_lifetime {
	DEVMEM_LIFETIME_PERSISTENT,
	DEVMEM_LIFETIME_SOCKET,
};

/**
 * enum devmem_state - Life cycle of a binding.
 * @DEVMEM_STATE_ACTIVE: Bound to its queues; new packets land in the dmabuf.
 * @DEVMEM_STATE_DRAINING: Unbound: no new packets land in the dmabuf, but
 *   buffers are still held (by sockets, user space or the device). The binding
 *   is freed when the last one comes back.
 */
enum devmem_state {
	DEVMEM_STATE_ACTIVE,
	DEVMEM_STATE_DRAINING,
};

enum {
	DEVMEM_A_BINDING_ID = 1,
	DEVMEM_A_BINDING_IFINDEX,
	DEVMEM_A_BINDING_FD,
	DEVMEM_A_BINDING_QUEUES,
	DEVMEM_A_BINDING_DIRECTION,
	DEVMEM_A_BINDING_LIFETIME,
	DEVMEM_A_BINDING_DMABUF_SIZE,
	DEVMEM_A_BINDING_OWNER_PID,
	DEVMEM_A_BINDING_OWNER_COMM,
	DEVMEM_A_BINDING_STATE,
	DEVMEM_A_BINDING_CREATE_TIME,

	__DEVMEM_A_BINDING_MAX,
	DEVMEM_A_BINDING_MAX = (__DEVMEM_A_BINDING_MAX - 1)
};

enum {
	DEVMEM_A_STATS_ID = 1,
	DEVMEM_A_STATS_IFINDEX,
	DEVMEM_A_STATS_NIOVS_TOTAL,
	DEVMEM_A_STATS_NIOVS_FREE,
	DEVMEM_A_STATS_NIOVS_USER,
	DEVMEM_A_STATS_RX_BYTES,
	DEVMEM_A_STATS_RX_FRAGS,
	DEVMEM_A_STATS_RX_LINEAR_BYTES,
	DEVMEM_A_STATS_TOKENS_OUT,
	DEVMEM_A_STATS_TOKENS_RETURNED,
	DEVMEM_A_STATS_TOKENS_RECLAIMED,
	DEVMEM_A_STATS_ALLOC_FAIL,
	DEVMEM_A_STATS_EFAULT,
	DEVMEM_A_STATS_TX_BYTES,
	DEVMEM_A_STATS_TX_FRAGS,

	__DEVMEM_A_STATS_MAX,
	DEVMEM_A_STATS_MAX = (__DEVMEM_A_STATS_MAX - 1)
};

enum {
	DEVMEM_CMD_BIND = 1,
	DEVMEM_CMD_UNBIND,
	DEVMEM_CMD_BINDING_GET,
	DEVMEM_CMD_STATS_GET,
	DEVMEM_CMD_DMABUF_GET,
	DEVMEM_CMD_BIND_NTF,
	DEVMEM_CMD_UNBIND_NTF,
	DEVMEM_CMD_FREE_NTF,

	__DEVMEM_CMD_MAX,
	DEVMEM_CMD_MAX = (__DEVMEM_CMD_MAX - 1)
};

#define DEVMEM_MCGRP_MGMT	"mgmt"

#endif /* _UAPI_LINUX_DEVMEM_H */
