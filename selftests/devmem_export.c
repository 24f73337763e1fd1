// SPDX-License-Identifier: GPL-2.0
/*
 * Make a dmabuf the way a GPU runtime or a heap user would, then become
 * the application that uses it.
 *
 *   devmem_export EXPORTER SIZE FD -- COMMAND [ARG...]
 *
 * EXPORTER is one of
 *   udmabuf          a udmabuf over a memfd (4 KiB pages)
 *   udmabuf-hugetlb  a udmabuf over a hugetlb memfd (2 MiB pages; SIZE a
 *                    multiple of 2 MiB, hugepages reserved)
 *   vgem             a DRM dumb buffer of vgem, exported with
 *                    DRM_IOCTL_PRIME_HANDLE_TO_FD (a GPU driver's PRIME path)
 *   heap             the system dma-heap, /dev/dma_heap/system (high-order
 *                    pages: scatterlist entries up to 1 MiB)
 * The dmabuf is left open as descriptor FD (no close-on-exec), the
 * exporter's own handles are closed, and COMMAND replaces this process:
 * the dmabuf belongs to it, under this pid. Exit 2 on usage errors, 3 when
 * the exporter is missing (skip), 1 on other failures.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#define HUGE_2M (2UL << 20)

static int die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("devmem_export: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static int open_or_skip(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die(errno == ENOENT ? 3 : 1, "%s: %s", path, strerror(errno));
	return fd;
}

static int export_udmabuf(uint64_t size, bool huge)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = size };
	int dev = open_or_skip("/dev/udmabuf"), memfd, fd;

	memfd = memfd_create("devmem_export", MFD_ALLOW_SEALING | MFD_CLOEXEC |
			     (huge ? MFD_HUGETLB : 0));
	if (memfd < 0)
		die(1, "memfd_create%s: %s", huge ? "(MFD_HUGETLB)" : "", strerror(errno));
	if (ftruncate(memfd, size) < 0)
		die(1, "ftruncate %llu: %s%s", (unsigned long long)size, strerror(errno),
		    huge ? " (are 2 MiB hugepages reserved: vm.nr_hugepages?)" : "");
	if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		die(1, "F_SEAL_SHRINK: %s", strerror(errno));
	c.memfd = memfd;
	fd = ioctl(dev, UDMABUF_CREATE, &c);
	if (fd < 0)
		die(1, "UDMABUF_CREATE: %s", strerror(errno));
	close(memfd);
	close(dev);
	return fd;
}

/* the DRM device whose driver is @name, as a primary node */
static int drm_open(const char *name)
{
	char path[300], drv[32];
	struct drm_version v;
	struct dirent *de;
	DIR *d = opendir("/dev/dri");
	int fd;

	if (!d)
		die(3, "/dev/dri: %s (CONFIG_DRM_VGEM?)", strerror(errno));
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "card", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(drv, 0, sizeof(drv));
		v.name = drv;
		v.name_len = sizeof(drv) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(drv, name)) {
			closedir(d);
			return fd;
		}
		close(fd);
	}
	closedir(d);
	die(3, "no DRM device of driver %s under /dev/dri", name);
	return -1;
}

static int export_vgem(uint64_t size)
{
	struct drm_mode_create_dumb dumb = {
		.width = 4096, .height = size / 4096, .bpp = 8,
	};
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close gc = { 0 };
	int drm = drm_open("vgem");

	if (ioctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &dumb))
		die(1, "DRM_IOCTL_MODE_CREATE_DUMB: %s", strerror(errno));
	if (dumb.size != size)
		die(1, "vgem made a %llu-byte dumb buffer, asked for %llu",
		    (unsigned long long)dumb.size, (unsigned long long)size);
	prime.handle = dumb.handle;
	if (ioctl(drm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime))
		die(1, "DRM_IOCTL_PRIME_HANDLE_TO_FD: %s", strerror(errno));
	/* the dmabuf holds the GEM object: the handle and device can go */
	gc.handle = dumb.handle;
	ioctl(drm, DRM_IOCTL_GEM_CLOSE, &gc);
	close(drm);
	return prime.fd;
}

static int export_heap(uint64_t size)
{
	struct dma_heap_allocation_data a = {
		.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open_or_skip("/dev/dma_heap/system");

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a))
		die(1, "DMA_HEAP_IOCTL_ALLOC %llu: %s", (unsigned long long)size,
		    strerror(errno));
	close(heap);
	return a.fd;
}

int main(int argc, char **argv)
{
	unsigned long long size;
	const char *exp;
	char *end;
	int fd, want;

	if (argc < 6 || strcmp(argv[4], "--"))
		die(2, "usage: devmem_export udmabuf|udmabuf-hugetlb|vgem|heap SIZE FD -- COMMAND [ARG...]");
	exp = argv[1];
	errno = 0;
	size = strtoull(argv[2], &end, 10);
	if (errno || *end || !size || size % 4096)
		die(2, "SIZE '%s': a multiple of 4096 bytes", argv[2]);
	want = strtol(argv[3], &end, 10);
	if (*end || want < 3 || want > 1000)
		die(2, "FD '%s': 3-1000", argv[3]);

	if (!strcmp(exp, "udmabuf"))
		fd = export_udmabuf(size, false);
	else if (!strcmp(exp, "udmabuf-hugetlb"))
		fd = size % HUGE_2M ? die(2, "udmabuf-hugetlb: SIZE a multiple of 2 MiB") :
				      export_udmabuf(size, true);
	else if (!strcmp(exp, "vgem"))
		fd = export_vgem(size);
	else if (!strcmp(exp, "heap"))
		fd = export_heap(size);
	else
		die(2, "EXPORTER '%s': udmabuf, udmabuf-hugetlb, vgem or heap", exp);

	/* dup2() leaves the new descriptor without close-on-exec */
	if (fd != want && dup2(fd, want) < 0)
		die(1, "dup2: %s", strerror(errno));
	if (fd != want)
		close(fd);
	else if (fcntl(fd, F_SETFD, 0))
		die(1, "F_SETFD: %s", strerror(errno));
	execvp(argv[5], argv + 5);
	die(1, "%s: %s", argv[5], strerror(errno));
	return 1;
}
