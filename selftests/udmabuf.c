// SPDX-License-Identifier: GPL-2.0
/*
 * udmabuf stands in for GPU memory in every devmem test: check that a
 * udmabuf made from a memfd maps the memfd's own pages, so what a device
 * writes into the dmabuf is what the test reads back through its mmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/udmabuf.h>

#include "kselftest_harness.h"

#define SIZE (4UL << 20)

FIXTURE(udmabuf) {
	int devfd;
	int memfd;
};

FIXTURE_SETUP(udmabuf)
{
	self->devfd = open("/dev/udmabuf", O_RDWR);
	ASSERT_LE(0, self->devfd) TH_LOG("open /dev/udmabuf: %s", strerror(errno));
	self->memfd = memfd_create("udmabuf-test", MFD_ALLOW_SEALING);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, SIZE));
	ASSERT_EQ(0, fcntl(self->memfd, F_ADD_SEALS, F_SEAL_SHRINK));
}

FIXTURE_TEARDOWN(udmabuf)
{
	close(self->memfd);
	close(self->devfd);
}

static int create(int devfd, int memfd, uint64_t offset, uint64_t size)
{
	struct udmabuf_create c = {
		.memfd = memfd, .flags = UDMABUF_FLAGS_CLOEXEC,
		.offset = offset, .size = size,
	};

	return ioctl(devfd, UDMABUF_CREATE, &c);
}

static int sync_dmabuf(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

TEST_F(udmabuf, mmap_shares_memfd_pages)
{
	uint8_t *mem, *buf;
	size_t i;
	int fd;

	fd = create(self->devfd, self->memfd, 0, SIZE);
	ASSERT_LE(0, fd) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));
	EXPECT_EQ((off_t)SIZE, lseek(fd, 0, SEEK_END));

	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->memfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	buf = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, buf);

	/* memfd -> dmabuf */
	for (i = 0; i < SIZE; i++)
		mem[i] = (uint8_t)(i * 7 + (i >> 12));
	ASSERT_EQ(0, sync_dmabuf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (i = 0; i < SIZE; i++)
		if (buf[i] != (uint8_t)(i * 7 + (i >> 12)))
			break;
	EXPECT_EQ(SIZE, i) TH_LOG("dmabuf differs from memfd at byte %zu", i);
	ASSERT_EQ(0, sync_dmabuf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	/* dmabuf -> memfd */
	ASSERT_EQ(0, sync_dmabuf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	memset(buf + SIZE / 2, 0xa5, 4096);
	ASSERT_EQ(0, sync_dmabuf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	EXPECT_EQ(0xa5, mem[SIZE / 2]);
	EXPECT_EQ(0xa5, mem[SIZE / 2 + 4095]);

	munmap(buf, SIZE);
	munmap(mem, SIZE);
	close(fd);
}

TEST_F(udmabuf, refuses_unsealed_memfd)
{
	int memfd = memfd_create("unsealed", MFD_ALLOW_SEALING);

	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, SIZE));
	EXPECT_EQ(-1, create(self->devfd, memfd, 0, SIZE));
	EXPECT_EQ(EINVAL, errno);
	close(memfd);
}

TEST_F(udmabuf, refuses_unaligned_size)
{
	EXPECT_EQ(-1, create(self->devfd, self->memfd, 0, 4096 + 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
