// SPDX-License-Identifier: GPL-2.0
/* devmem-nc: every received byte checked against the pattern; progress. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "devmem-nc.h"
#include "pattern.h"

void validate(struct stats *st, const struct opts *o, const void *buf,
		     uint64_t off, size_t len, const char *where,
		     uint64_t where_off)
{
	uint64_t first = 0;
	size_t bad;

	if (!o->validate || !len)
		return;
	bad = devmem_pattern_check(buf, off, len, &first);
	if (!bad)
		return;
	if (!st->errors)
		st->first_bad = first;
	if (st->errors < MAX_REPORTED_MISMATCHES) {
		const uint8_t *p = buf;

		msg("mismatch at stream offset %" PRIu64 " (%s %" PRIu64 "): got 0x%02x, expected 0x%02x; %zu of %zu bytes differ",
		    first, where, where_off + (first - off),
		    p[first - off], devmem_pattern_byte(first), bad, len);
	}
	st->errors += bad;
}


void progress_init(struct progress *p, const struct opts *o)
{
	p->on = o->progress;
	p->tty = isatty(STDERR_FILENO);
	p->start = now();
	p->last = p->start;
	p->last_bytes = 0;
}

void progress_tick(struct progress *p, const char *verb,
			  uint64_t bytes, uint64_t total)
{
	double t;

	if (!p->on)
		return;
	t = now();
	if (t - p->last < 1.0)
		return;
	if (total)
		fprintf(stderr, "devmem-nc: %s %" PRIu64 " of %" PRIu64 " MiB (%.0f%%), %.1f MB/s%s",
			verb, bytes / MiB, total / MiB, 100.0 * bytes / total,
			(bytes - p->last_bytes) / (t - p->last) / 1e6,
			p->tty ? "   \r" : "\n");
	else
		fprintf(stderr, "devmem-nc: %s %" PRIu64 " MiB, %.1f MB/s%s",
			verb, bytes / MiB,
			(bytes - p->last_bytes) / (t - p->last) / 1e6,
			p->tty ? "   \r" : "\n");
	p->last = t;
	p->last_bytes = bytes;
}

void progress_done(struct progress *p)
{
	if (p->on && p->tty && p->last != p->start)
		fputc('\n', stderr);
}
