// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* dmabufs for applications: udmabuf from a memfd, mapping, CPU access. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/udmabuf.h>

#include "internal.h"

DM_API int devmem_udmabuf_create(uint64_t size)
{
	struct udmabuf_create create = {
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.size = size,
	};
	int devfd, memfd, fd = -1, err = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (!size || size % page)
		return -EINVAL;
	devfd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		return -errno;
	/* a plain (not hugetlb) memfd: 6.12's udmabuf vmap wants pages */
	memfd = memfd_create("libdevmem", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0) {
		err = -errno;
		close(devfd);
		return err;
	}
	/* udmabuf refuses a memfd that could shrink under the dmabuf */
	if (ftruncate(memfd, size) < 0 ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		err = -errno;
		goto out;
	}
	create.memfd = memfd;
	fd = ioctl(devfd, UDMABUF_CREATE, &create);
	if (fd < 0)
		err = -errno;
out:
	/* the dmabuf holds its own references to the memfd's pages */
	close(memfd);
	close(devfd);
	return err ? err : fd;
}

DM_API int devmem_dmabuf_size(int fd, uint64_t *size)
{
	/* dma-buf files report their size through SEEK_END */
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return -errno;
	if (!end)
		return -EINVAL;
	lseek(fd, 0, SEEK_SET);
	*size = end;
	return 0;
}

DM_API int devmem_dmabuf_map(int fd, uint64_t size, int prot, void **map)
{
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	*map = NULL;
	if (p == MAP_FAILED)
		return -errno;
	*map = p;
	return 0;
}

DM_API int devmem_dmabuf_unmap(void *map, uint64_t size)
{
	return munmap(map, size) ? -errno : 0;
}

static int dmabuf_sync(int fd, uint64_t flags, unsigned int dir)
{
	struct dma_buf_sync sync = { .flags = flags };

	if (!dir || (dir & ~(DEVMEM_SYNC_READ | DEVMEM_SYNC_WRITE)))
		return -EINVAL;
	if (dir & DEVMEM_SYNC_READ)
		sync.flags |= DMA_BUF_SYNC_READ;
	if (dir & DEVMEM_SYNC_WRITE)
		sync.flags |= DMA_BUF_SYNC_WRITE;
	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0)
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	return 0;
}

DM_API int devmem_dmabuf_sync_begin(int fd, unsigned int dir)
{
	return dmabuf_sync(fd, DMA_BUF_SYNC_START, dir);
}

DM_API int devmem_dmabuf_sync_end(int fd, unsigned int dir)
{
	return dmabuf_sync(fd, DMA_BUF_SYNC_END, dir);
}
