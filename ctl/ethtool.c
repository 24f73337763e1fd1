// SPDX-License-Identifier: GPL-2.0
/*
 * ethtool ntuple rules through the SIOCETHTOOL ioctl (ethtool netlink has
 * no ntuple messages in 6.12). Masks follow the kernel's convention: a set
 * bit is a bit that must match.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "devmemctl.h"
#include "devmem_bpf.h"

int eth_ioctl(const char *ifname, void *data)
{
	struct ifreq ifr = {};
	int fd, ret = 0;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_data = data;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

static const uint8_t zero16[16];

static void set_v4(__be32 *val, __be32 *mask, const uint8_t *addr)
{
	if (!memcmp(addr, zero16, 4))
		return;
	memcpy(val, addr, 4);
	*mask = 0xffffffff;
}

static void set_v6(__be32 *val, __be32 *mask, const uint8_t *addr)
{
	if (!memcmp(addr, zero16, 16))
		return;
	memcpy(val, addr, 16);
	memset(mask, 0xff, 16);
}

static void rule_to_fs(const struct devmem_rule *r, struct ethtool_rx_flow_spec *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->flow_type = r->flow_type;
	fs->ring_cookie = r->queue;
	if (r->flow_type == TCP_V4_FLOW) {
		set_v4(&fs->h_u.tcp_ip4_spec.ip4src, &fs->m_u.tcp_ip4_spec.ip4src, r->src);
		set_v4(&fs->h_u.tcp_ip4_spec.ip4dst, &fs->m_u.tcp_ip4_spec.ip4dst, r->dst);
		if (r->sport) {
			fs->h_u.tcp_ip4_spec.psrc = htons(r->sport);
			fs->m_u.tcp_ip4_spec.psrc = 0xffff;
		}
		if (r->dport) {
			fs->h_u.tcp_ip4_spec.pdst = htons(r->dport);
			fs->m_u.tcp_ip4_spec.pdst = 0xffff;
		}
	} else {
		set_v6(fs->h_u.tcp_ip6_spec.ip6src, fs->m_u.tcp_ip6_spec.ip6src, r->src);
		set_v6(fs->h_u.tcp_ip6_spec.ip6dst, fs->m_u.tcp_ip6_spec.ip6dst, r->dst);
		if (r->sport) {
			fs->h_u.tcp_ip6_spec.psrc = htons(r->sport);
			fs->m_u.tcp_ip6_spec.psrc = 0xffff;
		}
		if (r->dport) {
			fs->h_u.tcp_ip6_spec.pdst = htons(r->dport);
			fs->m_u.tcp_ip6_spec.pdst = 0xffff;
		}
	}
}

int eth_rule_add(const char *ifname, struct devmem_rule *r, uint32_t *loc)
{
	struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_SRXCLSRLINS };
	int ret;

	rule_to_fs(r, &nfc.fs);
	nfc.fs.location = RX_CLS_LOC_ANY;
	ret = eth_ioctl(ifname, &nfc);
	if (!ret)
		*loc = nfc.fs.location;
	return ret;
}

int eth_rule_del(const char *ifname, uint32_t loc)
{
	struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_SRXCLSRLDEL };

	nfc.fs.location = loc;
	return eth_ioctl(ifname, &nfc);
}

/* is the rule at @loc the one we made? Compared as the device reports it */
int eth_rule_matches(const char *ifname, uint32_t loc,
		     const struct devmem_rule *r, bool *same)
{
	struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_GRXCLSRULE };
	struct ethtool_rx_flow_spec want;
	int ret;

	nfc.fs.location = loc;
	ret = eth_ioctl(ifname, &nfc);
	if (ret)
		return ret;
	rule_to_fs(r, &want);
	want.location = loc;
	*same = nfc.fs.flow_type == want.flow_type &&
		nfc.fs.ring_cookie == want.ring_cookie &&
		!memcmp(&nfc.fs.h_u, &want.h_u, sizeof(want.h_u)) &&
		!memcmp(&nfc.fs.m_u, &want.m_u, sizeof(want.m_u));
	return 0;
}

int eth_rule_count(const char *ifname, uint32_t *count)
{
	struct ethtool_rxnfc nfc = { .cmd = ETHTOOL_GRXCLSRLCNT };
	int ret = eth_ioctl(ifname, &nfc);

	if (!ret)
		*count = nfc.rule_cnt;
	return ret;
}
