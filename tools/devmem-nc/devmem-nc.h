/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devmem-nc - netcat for devmem TCP, on libdevmem.  See devmem-nc(1) and
 * main.c for what the kernel promises and the program relies on.
 */
#ifndef DEVMEM_NC_H
#define DEVMEM_NC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/devmem.h>

#include "libdevmem.h"

#define KiB			((uint64_t)1024)
#define MiB			(1024 * KiB)
#define MAX_QUEUE_ID		4095
#define MAX_REPORTED_MISMATCHES	8

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* how the server receives */
enum mode {
	MODE_DEVMEM,
	MODE_PLAIN,
	MODE_BOUNCE,
	MODE_TRUNC,
};

/* how the client sends */
enum tx_mode {
	TX_COPY,
	TX_DEVMEM,
	TX_BOUNCE,
	TX_ZEROCOPY,
};

extern const char * const mode_names[];
extern const char * const tx_names[];
extern const char * const lifetime_names[];

#define DEVMEM_NC_MAX_URGENT	8

struct opts {
	bool listen;
	const char *connect_addr;
	const char *bind_addr;
	const char *port;
	const char *ifname;
	const char *queues_arg;
	uint32_t *queues;
	unsigned int nr_queues;
	uint64_t dmabuf_size;
	bool dmabuf_size_set;
	int dmabuf_fd;
	bool no_bind;
	bool netdev_bind;	/* bind with the netdev family's bind-rx/tx */
	enum devmem_lifetime lifetime;
	bool lifetime_set;
	uint32_t binding;	/* --binding: use this existing binding */
	bool binding_set;
	uint64_t size;
	bool size_set;
	size_t chunk;
	bool progress;
	enum mode mode;
	const char *mode_opt;	/* the option that chose the mode */
	unsigned int token_batch;
	bool hoard;
	bool json;
	int timeout;
	bool expect_efault;
	bool validate;
	bool raw_loop;		/* --raw-loop: the hand-written baseline */
	enum tx_mode tx;
	/* --urgent: stream offsets sent alone with MSG_OOB, ascending */
	uint64_t urgent[DEVMEM_NC_MAX_URGENT];
	unsigned int nr_urgent;
	/* first server-only option seen, to refuse it in client mode */
	const char *server_opt;
	/* and the first client-only one, for server mode */
	const char *client_opt;
};

struct stats {
	uint64_t bytes;
	uint64_t dmabuf_bytes;
	uint64_t linear_bytes;
	uint64_t plain_bytes;
	uint64_t dmabuf_frags;
	uint64_t linear_frags;
	uint64_t tokens_returned;
	uint64_t tokens_held;
	uint64_t held_bytes;
	uint64_t errors;
	uint64_t first_bad;
	/*
	 * Bytes this process copied: into its buffer by the kernel (recv,
	 * SCM_DEVMEM_LINEAR) plus its own memcpy into the dmabuf (bounce).
	 */
	uint64_t copied_bytes;
	double seconds;
	/* CPU time of this process from accept() to the end of the transfer */
	double cpu_user;
	double cpu_sys;
	bool efault;
	uint64_t efault_offset;
	/* SIGURGs the connection raised: urgent pointers the kernel saw */
	uint64_t urgent_signals;
	bool have_dmabuf_id;
	uint32_t dmabuf_id;
	/* the family that made the binding: "devmem", "netdev" or "none" */
	const char *family;
	bool have_binding_id;
	uint32_t binding_id;
};

struct tx_stats {
	uint64_t bytes;
	uint64_t calls;			/* send/sendmsg calls that sent bytes */
	uint64_t completions;		/* MSG_ZEROCOPY calls known complete */
	uint64_t completions_copied;	/* of those, ones the kernel copied */
	/*
	 * Bytes copied on the way out: by the kernel (send(), or a zerocopy
	 * call it reported as copied) plus this process's own memcpy out of
	 * the dmabuf (bounce).
	 */
	uint64_t copied_bytes;
	double seconds;
	/* CPU time of this process from connect() to the end of the transfer */
	double cpu_user;
	double cpu_sys;
	/* the family that made the tx binding: "devmem", "netdev" or "none" */
	const char *family;
	bool have_binding_id;
	uint32_t binding_id;
};

struct dmabuf {
	int fd;
	bool own_fd;
	uint8_t *map;
	uint64_t size;
	uint64_t bounce_pos;
};

/*
 * What the client sends from.  Stream offset i lives at window offset
 * i % size: a lap of the window holds a new stretch of the stream, so its
 * bytes are written again (pattern.h: every lap differs) once the previous
 * lap's are no longer needed.
 */
struct tx_buf {
	struct dmabuf db;	/* devmem, bounce: the dmabuf is the window */
	uint8_t *win;		/* the window: db.map, or host memory (zerocopy) */
	uint64_t size;		/* its size: at most this much is in flight */
	uint64_t filled;	/* the pattern is in place up to this offset */
	uint8_t *chunk;		/* copy, bounce: what send() copies from */
};

struct progress {
	bool on;
	bool tty;
	double start;
	double last;
	uint64_t last_bytes;
};

/* main.c: messages (fail() keeps the text for the JSON summary) */
extern char run_error[512];
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void usage_error(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
const char *errno_name(int err);
double now(void);
void cpu_times(double *user, double *sys);

/* options.c, options_check.c */
void parse_opts(struct opts *o, int argc, char **argv);
void check_client_opts(const struct opts *o);
void check_server_opts(const struct opts *o);

/* binding.c: the dmabuf and its binding */
int dmabuf_setup(struct dmabuf *db, const struct opts *o);
int dmabuf_map(struct dmabuf *db, const struct opts *o);
void dmabuf_teardown(struct dmabuf *db);
int dmabuf_sync(struct dmabuf *db, bool start, unsigned int dir);
struct devmem_nl *bind_dmabuf(const struct opts *o, int dmabuf_fd,
			      uint32_t *id, const char **family);
int binding_attach(const struct opts *o, struct dmabuf *db);

/* net.c */
int listen_on(const struct opts *o);
int accept_one(int lfd, int timeout);
int connect_to(const struct opts *o);
int client_finish(int fd, const struct opts *o);

/* validate.c: the pattern, and progress lines */
void validate(struct stats *st, const struct opts *o, const void *buf,
	      uint64_t off, size_t len, const char *where, uint64_t where_off);
void progress_init(struct progress *p, const struct opts *o);
void progress_tick(struct progress *p, const char *verb, uint64_t bytes,
		   uint64_t total);
void progress_done(struct progress *p);

/* rx_devmem.c, rx_plain.c, rx_raw.c */
int recv_error(const struct opts *o, const struct dmabuf *db,
	       const struct stats *st, int err);
int recv_devmem(int fd, const struct opts *o, struct dmabuf *db,
		struct stats *st);
int recv_plain(int fd, const struct opts *o, struct dmabuf *db,
	       struct stats *st);
int recv_devmem_raw(int fd, const struct opts *o, struct dmabuf *db,
		    struct stats *st);

/* tx_copy.c, tx_zerocopy.c, tx_raw.c */
int tx_fill(struct tx_buf *tb, uint64_t upto, bool in_cpu_access);
uint64_t tx_fill_upto(const struct tx_buf *tb, uint64_t need, uint64_t total);
int send_copy(int fd, const struct opts *o, struct tx_buf *tb,
	      struct tx_stats *st);
int send_zerocopy(int fd, const struct opts *o, struct tx_buf *tb,
		  struct tx_stats *st);
int send_zerocopy_raw(int fd, const struct opts *o, struct tx_buf *tb,
		      struct tx_stats *st);

/* summary.c */
void print_server_summary(const struct opts *o, const struct stats *st,
			  bool failed);
void print_client_summary(const struct opts *o, const struct tx_stats *st,
			  uint64_t window, bool failed);

/* server.c, client.c */
int run_server(const struct opts *o);
int run_client(const struct opts *o);

#endif /* DEVMEM_NC_H */
