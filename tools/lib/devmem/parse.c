// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one grammar for numbers, sizes and queue lists in devmem tools:
 * decimal digits only, so "010" is not eight, " 1" and "+1" are not one,
 * and "1,,2" is not a list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void why_set(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* DIGITS at *p (no leading zero but "0"); *p moves past them */
static int digits(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = *s - '0';

		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return 0;
}

DM_API int devmem_parse_u64(const char *s, uint64_t *v)
{
	uint64_t n;
	int ret;

	if (!s)
		return -EINVAL;
	ret = digits(&s, &n);
	if (ret)
		return ret;
	if (*s)
		return -EINVAL;
	*v = n;
	return 0;
}

DM_API int devmem_parse_u32(const char *s, uint32_t min, uint32_t max,
			    uint32_t *v)
{
	uint64_t n;
	int ret = devmem_parse_u64(s, &n);

	if (ret)
		return ret;
	if (n < min || n > max)
		return -ERANGE;
	*v = n;
	return 0;
}

DM_API int devmem_parse_size(const char *s, uint64_t *v, char *why,
			     size_t why_len)
{
	static const char units[] = "KMGT";
	const char *u;
	unsigned int shift = 0;
	uint64_t n;
	int ret;

	if (!s)
		return -EINVAL;
	ret = digits(&s, &n);
	if (ret == -ERANGE) {
		why_set(why, why_len, "larger than 2^64 bytes");
		return ret;
	}
	if (ret)
		goto bad;
	if (*s) {
		char c = *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s;

		u = strchr(units, c);
		if (!u || !c)
			goto bad;
		shift = 10 * (u - units + 1);
		s++;
		if (*s && strcmp(s, "iB"))
			goto bad;
	}
	if (n > UINT64_MAX >> shift) {
		why_set(why, why_len, "larger than 2^64 bytes");
		return -ERANGE;
	}
	*v = n << shift;
	return 0;
bad:
	why_set(why, why_len,
		"expected bytes, with a K, M, G or T suffix (powers of 1024)");
	return -EINVAL;
}

DM_API int devmem_parse_queues(const char *s, uint32_t max_id,
			       uint32_t **queues, unsigned int *nr,
			       char *why, size_t why_len)
{
	size_t words = (size_t)max_id / 64 + 1;
	uint64_t *seen, lo, hi, v;
	unsigned int n = 0;
	const char *p = s;
	int ret = -EINVAL;

	*queues = NULL;
	*nr = 0;
	if (!s)
		goto bad_form;
	seen = calloc(words, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	for (;;) {
		int r = digits(&p, &lo);

		hi = lo;
		if (!r && *p == '-') {
			p++;
			r = digits(&p, &hi);
		}
		if (r == -EINVAL) {
			free(seen);
			goto bad_form;
		}
		if (r == -ERANGE || lo > max_id || hi > max_id) {
			why_set(why, why_len, "queue ids go up to %u", max_id);
			ret = -ERANGE;
			goto out;
		}
		if (hi < lo) {
			why_set(why, why_len,
				"range %llu-%llu ends before it starts",
				(unsigned long long)lo, (unsigned long long)hi);
			goto out;
		}
		for (v = lo; v <= hi; v++) {
			if (seen[v / 64] & (1ULL << (v % 64))) {
				why_set(why, why_len,
					"queue %llu is listed twice",
					(unsigned long long)v);
				goto out;
			}
			seen[v / 64] |= 1ULL << (v % 64);
			n++;
		}
		if (!*p)
			break;
		if (*p != ',') {
			free(seen);
			goto bad_form;
		}
		p++;
	}
	*queues = malloc(n * sizeof(**queues));
	if (!*queues) {
		ret = -ENOMEM;
		goto out;
	}
	for (v = 0; v <= max_id; v++)
		if (seen[v / 64] & (1ULL << (v % 64)))
			(*queues)[(*nr)++] = v;
	ret = 0;
out:
	free(seen);
	return ret;
bad_form:
	why_set(why, why_len,
		"expected queue ids and ranges, like 2, 2-3 or 1,4-5");
	return -EINVAL;
}
