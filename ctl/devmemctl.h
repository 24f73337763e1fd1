/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DEVMEMCTL_H
#define DEVMEMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libdevmem.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* exit status: 0 ok, 1 runtime error, 2 usage error */
enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

extern bool json_out;
extern bool pretty_out;
extern const char *netns_name;

/* ---- arguments (iproute2 style: keyword value ... in one loop) ---- */
#define NEXT_ARG()	(argc--, argv++)
#define NEXT_VAL(kw)	do { if (argc < 2) return usage_missing(kw); NEXT_ARG(); } while (0)

bool is_kw(const char *arg, const char *kw);
bool is_help(const char *arg);
int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...);
int usage_missing(const char *kw);
int usage_bad(const char *kw, const char *val, const char *why);
int usage_unknown(const char *object, const char *arg);
/* a command line that stops short: the usage on stderr, or with -j the
 * error @what as the one JSON document
 */
#include <stdio.h>
int usage_short(void (*usage_fn)(FILE *f), const char *what);
/* a keyword given twice (iproute2's duparg): @val is its second value,
 * NULL for a keyword without one
 */
int usage_dup(const char *kw, const char *val);
/* in a keyword loop with 'unsigned int seen': refuse argv[0] a second time */
#define ONCE_VAL(bit)							\
	do {								\
		if (seen & (bit))					\
			return usage_dup(argv[0], argc > 1 ? argv[1] : NULL); \
		seen |= (bit);						\
	} while (0)
#define ONCE_FLAG(bit)							\
	do {								\
		if (seen & (bit))					\
			return usage_dup(argv[0], NULL);		\
		seen |= (bit);						\
	} while (0)
int parse_u32(const char *kw, const char *val, uint32_t min, uint32_t max,
	      uint32_t *out);

/* ---- messages ---- */
/* "Error: MSG." on stderr, or {"error": "MSG"} on stdout with -j */
int __attribute__((format(printf, 1, 2))) error(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) warn(const char *fmt, ...);
/* from now on errors and warnings go to syslog (a daemon) */
void log_to_syslog(void);
const char *errno_name(int err);

/* ---- output: one call per field serves text and JSON ---- */
void out_doc_begin(void);		/* one JSON object for what follows */
void out_doc_end(void);
void out_list_begin(const char *name);	/* {"name": [ */
void out_list_end(void);
void out_obj_begin(void);
void out_obj_end(void);			/* text: ends the line */
void out_u64(const char *key, const char *text_fmt, uint64_t v);
void out_str(const char *key, const char *text_fmt, const char *s);
void out_u32_array(const char *key, const char *text_word,
		   const uint32_t *v, unsigned int n);
void fmt_addr(char *buf, size_t len, int family, const uint8_t *addr);

/* ---- the devmem family: libdevmem ---- */
/* a devmem family handle (no netdev fallback: an admin tool needs the
 * family), or NULL and *e; another family (ethtool) likewise
 */
struct devmem_nl *dm_open(struct devmem_err *e);
struct devmem_nl *genl_open(const char *family, struct devmem_err *e);
/* "Error: EXTACK (ENAME)" with a hint; returns EXIT_ERR */
int dm_error(const char *what, const struct devmem_err *e, const char *hint);

/* ---- ethtool ntuple rules (ethtool.c) ---- */
struct devmem_rule;
/* SIOCETHTOOL with @data; 0 or -errno */
int eth_ioctl(const char *ifname, void *data);
int eth_rule_add(const char *ifname, struct devmem_rule *r, uint32_t *loc);
int eth_rule_del(const char *ifname, uint32_t loc);
/* 0 and *same set, or -ENOENT / -errno */
int eth_rule_matches(const char *ifname, uint32_t loc,
		     const struct devmem_rule *r, bool *same);
int eth_rule_count(const char *ifname, uint32_t *count);

/* ---- BPF pins (bpfpin.c) ---- */
const char *bpffs_dir(void);
/* DIR/NAME, or DIR/links/NAME for a link */
const char *pin_path(const char *name, bool link);
int pin_dirs_make(void);
void pin_dirs_remove(void);
int pinned_map_fd(const char *name);
uint64_t netns_cookie_self(void);

/* a cgroup PATH argument: absolute, or relative to the cgroup v2 root
 * (/sys/fs/cgroup), never to the working directory; "" is the root
 */
#define CGROUP_ROOT	"/sys/fs/cgroup"
void cgroup_path(const char *arg, char *buf, size_t len);

/* ---- bindings (binding.c), shared with dev and monitor ---- */
/* LIST := ID | ID-ID [ ,LIST ]: sorted, each queue once; EXIT_USAGE if bad */
#define MAX_QUEUE_ID	4095
int parse_queue_list(const char *kw, const char *val, uint32_t **queues,
		     unsigned int *nr);
/* "2-3,5" from a sorted list, "none" if empty */
void fmt_queue_ranges(char *buf, size_t len, const uint32_t *q, unsigned int n);
/* queue ids: a JSON array, ranges in text */
void out_queues(const char *key, const char *text_word, const uint32_t *q,
		unsigned int n);
int ifname_arg(const char *kw, const char *name, uint32_t *ifindex);
/* one binding's fields (after @event's, in a monitor); a freed binding
 * has no state
 */
void binding_fields(const struct devmem_binding *b, bool freed);

/* ---- objects ---- */
int do_steer(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_binding(int argc, char **argv);
int do_bind(int argc, char **argv);
int do_unbind(int argc, char **argv);
int do_dev(int argc, char **argv);
int do_monitor(int argc, char **argv);

#endif /* DEVMEMCTL_H */
