// SPDX-License-Identifier: GPL-2.0
/*
 * devmemctl's netlink handles, from libdevmem: the devmem family (no netdev
 * fallback: bindings an admin makes must outlive devmemctl), other generic
 * netlink families (ethtool) on the same requests, and how a refusal is
 * shown.
 */
#include <stdio.h>
#include <string.h>

#include "devmemctl.h"

struct devmem_nl *dm_open(struct devmem_err *e)
{
	struct devmem_nl *nl;

	return devmem_nl_open(&nl, DEVMEM_OPEN_NO_FALLBACK, e) ? NULL : nl;
}

struct devmem_nl *genl_open(const char *family, struct devmem_err *e)
{
	struct devmem_nl *nl;

	return devmem_genl_open(&nl, family, e) ? NULL : nl;
}

int dm_error(const char *what, const struct devmem_err *e, const char *hint)
{
	return error("%s%s%s (%s)%s%s", what ?: "", what ? ": " : "",
		     *e->msg ? e->msg : strerror(e->err),
		     errno_name(e->err), hint ? "; " : "", hint ?: "");
}
