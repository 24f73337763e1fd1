/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libdevmem internals shared by its sources (and its unit tests). */
#ifndef LIBDEVMEM_INTERNAL_H
#define LIBDEVMEM_INTERNAL_H

#include <stdarg.h>
#include "libdevmem.h"

#define DM_API		__attribute__((visibility("default")))
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* kernel-internal errno a devmem recvmsg returns when no cmsg fits */
#define DM_ETOOSMALL	525

struct nl_sock;

struct devmem_nl {
	struct nl_sock *sk;
	int family;		/* devmem, netdev or another genl family */
	bool devmem;		/* talking to the devmem family */
	bool netdev;		/* the netdev fallback */
	bool ntf;		/* joined the mgmt group */
};

void dm_err_set(struct devmem_err *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dm_err_clear(struct devmem_err *e);

int dm_sock_open(struct devmem_nl *nl, struct devmem_err *e);

/* a sendmsg call in flight (tx.c); exported for unit tests */
int dm_tx_complete(struct devmem_tx *tx, uint32_t lo, uint32_t hi,
		   bool copied);
int dm_tx_track(struct devmem_tx *tx, uint64_t offset, uint64_t len);

#endif
