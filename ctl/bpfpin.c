// SPDX-License-Identifier: GPL-2.0
/*
 * Where devmemctl pins its BPF maps and links: DEVMEM_BPFFS_DIR (or
 * $DEVMEM_BPFFS), maps by name, links under links/.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <bpf/bpf.h>

#include "devmemctl.h"
#include "devmem_bpf.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71
#endif

const char *bpffs_dir(void)
{
	const char *d = getenv("DEVMEM_BPFFS");

	return d && *d ? d : DEVMEM_BPFFS_DIR;
}

const char *pin_path(const char *name, bool link)
{
	static char path[2][4096];
	static int i;

	i ^= 1;
	snprintf(path[i], sizeof(path[i]), "%s/%s%s", bpffs_dir(),
		 link ? "links/" : "", name);
	return path[i];
}

int pin_dirs_make(void)
{
	if (mkdir(bpffs_dir(), 0700) && errno != EEXIST)
		return -errno;
	if (mkdir(pin_path("links", false), 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* the directories go when nothing is pinned in them any more */
void pin_dirs_remove(void)
{
	rmdir(pin_path("links", false));
	rmdir(bpffs_dir());
}

int pinned_map_fd(const char *name)
{
	int fd = bpf_obj_get(pin_path(name, false));

	return fd < 0 ? -errno : fd;
}

void cgroup_path(const char *arg, char *buf, size_t len)
{
	if (arg[0] == '/')
		snprintf(buf, len, "%s", arg);
	else if (!arg[0])
		snprintf(buf, len, CGROUP_ROOT);
	else
		snprintf(buf, len, CGROUP_ROOT "/%s", arg);
}

uint64_t netns_cookie_self(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
			cookie = 0;
		close(fd);
	}
	return cookie;
}
