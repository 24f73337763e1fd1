/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The byte pattern devmem-nc sends and validates, shared with the tests and
 * the benchmark so all of them agree on what byte belongs at which offset.
 *
 * The byte at stream offset i (i counts from 0 at the first byte the client
 * sends) is
 *
 *	pattern(i) = ((i * 131) ^ 0x5a ^ mix(i >> 8)) & 0xff
 *
 * where mix() is the splitmix64 finalizer, all arithmetic modulo 2^64:
 *
 *	x = q
 *	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
 *	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
 *	mix(q) = x ^ (x >> 31)
 *
 * In Python:
 *	M = (1 << 64) - 1
 *	def pattern(i):
 *		x = i >> 8
 *		x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M
 *		x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
 *		return ((i * 131) ^ 0x5a ^ x ^ (x >> 31)) & 0xff
 *
 * The first term (131 is odd) walks all 256 values inside each aligned
 * 256-byte block, so a shift by anything but a multiple of 256 breaks most
 * bytes.  mix() gives every block an unrelated byte, so a frag placed at the
 * wrong offset, duplicated, dropped, or stale from an earlier lap around
 * the dmabuf (a shift by a multiple of the dmabuf size) fails for every
 * block it covers: a misplaced 4 KiB page passes only if 16 unrelated
 * bytes all happen to match, where a pattern built from a few bit fields
 * of i lets 1 in 256 such shifts through.  Inside a block the pattern is a fixed 256-byte table
 * XORed with one byte, which lets fill and check work a word at a time.
 */
#ifndef DEVMEM_NC_PATTERN_H
#define DEVMEM_NC_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DEVMEM_PATTERN_BLOCK	256

static inline uint8_t devmem_pattern_block_byte(uint64_t q)
{
	q = (q ^ (q >> 30)) * 0xbf58476d1ce4e5b9ULL;
	q = (q ^ (q >> 27)) * 0x94d049bb133111ebULL;
	return (uint8_t)(q ^ (q >> 31));
}

static inline uint8_t devmem_pattern_byte(uint64_t i)
{
	return (uint8_t)((i * 131) ^ 0x5a ^ devmem_pattern_block_byte(i >> 8));
}

/* pattern(i) for i in one block with block byte 0 */
static inline const uint8_t *devmem_pattern_table(void)
{
	static uint8_t table[DEVMEM_PATTERN_BLOCK];
	static int ready;
	unsigned int j;

	if (!ready) {
		for (j = 0; j < DEVMEM_PATTERN_BLOCK; j++)
			table[j] = (uint8_t)((j * 131) ^ 0x5a);
		ready = 1;
	}
	return table;
}

/* Write pattern bytes [off, off + len) to buf. */
static inline void devmem_pattern_fill(void *buf, uint64_t off, size_t len)
{
	const uint8_t *table = devmem_pattern_table();
	uint8_t *dst = buf;

	while (len) {
		size_t j = off % DEVMEM_PATTERN_BLOCK;
		size_t seg = DEVMEM_PATTERN_BLOCK - j;
		uint64_t mask = 0x0101010101010101ULL *
				devmem_pattern_block_byte(off >> 8);
		size_t n = 0;

		if (seg > len)
			seg = len;
		for (; n + 8 <= seg; n += 8) {
			uint64_t w;

			memcpy(&w, table + j + n, 8);
			w ^= mask;
			memcpy(dst + n, &w, 8);
		}
		for (; n < seg; n++)
			dst[n] = table[j + n] ^ (uint8_t)mask;
		dst += seg;
		off += seg;
		len -= seg;
	}
}

/*
 * Compare buf against pattern bytes [off, off + len).  Returns the number of
 * bytes that differ; if any do, *first_bad is the stream offset of the first.
 */
static inline size_t devmem_pattern_check(const void *buf, uint64_t off,
					  size_t len, uint64_t *first_bad)
{
	const uint8_t *table = devmem_pattern_table();
	const uint8_t *src = buf;
	size_t bad = 0;

	while (len) {
		size_t j = off % DEVMEM_PATTERN_BLOCK;
		size_t seg = DEVMEM_PATTERN_BLOCK - j;
		uint64_t mask = 0x0101010101010101ULL *
				devmem_pattern_block_byte(off >> 8);
		uint64_t diff = 0;
		size_t n = 0;

		if (seg > len)
			seg = len;
		for (; n + 8 <= seg; n += 8) {
			uint64_t got, want;

			memcpy(&got, src + n, 8);
			memcpy(&want, table + j + n, 8);
			diff |= got ^ want ^ mask;
		}
		for (; n < seg; n++)
			diff |= src[n] ^ table[j + n] ^ (uint8_t)mask;

		if (diff) {
			for (n = 0; n < seg; n++) {
				if (src[n] == (uint8_t)(table[j + n] ^ mask))
					continue;
				if (!bad && first_bad)
					*first_bad = off + n;
				bad++;
			}
		}
		src += seg;
		off += seg;
		len -= seg;
	}
	return bad;
}

#endif /* DEVMEM_NC_PATTERN_H */
