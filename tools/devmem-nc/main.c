// SPDX-License-Identifier: GPL-2.0
/*
 * devmem-nc - netcat for devmem TCP (this file: messages, clocks, main).
 *
 * The client sends a known byte pattern (pattern.h).  The server receives it
 * into a dmabuf with recvmsg(MSG_SOCK_DEVMEM) and checks every byte, whether
 * the NIC put it in the dmabuf or left it in the linear part of the skb,
 * then hands the dmabuf frags back with SO_DEVMEM_DONTNEED.  The plain,
 * bounce and trunc modes are what an application does without devmem TCP,
 * for the benchmark to compare against.
 *
 * The client sends with send() from host memory (--tx copy), or from a
 * dmabuf bound for transmit (--tx devmem: sendmsg(MSG_ZEROCOPY) whose iovs
 * are offsets into the dmabuf, named by an SCM_DEVMEM_DMABUF cmsg carrying
 * the binding id).  --tx bounce (memcpy out of the dmabuf, then send()) and
 * --tx zerocopy (MSG_ZEROCOPY from host memory) are the baselines.
 *
 * What the kernel (6.12 tcp_recvmsg_locked/tcp_recvmsg_dmabuf) promises and
 * this program relies on:
 *  - One recvmsg() never returns ordinary (readable) data and devmem data
 *    together: it stops where the kind of skb changes.
 *  - For devmem data every byte is described by a cmsg, in stream order.
 *    For each skb, the part of its linear area not yet read comes first
 *    (SCM_DEVMEM_LINEAR: the bytes are in the iov, packed one after the
 *    other in cmsg order), then its frags (SCM_DEVMEM_DMABUF: the bytes are
 *    at frag_offset in the dmabuf).  The return value is the sum of all
 *    frag_size values, so it is larger than what the iov holds, and the iov
 *    length caps the total (dmabuf bytes included) returned per call.
 *  - Ordinary data read with MSG_SOCK_DEVMEM (the flow arrived on a queue
 *    with no dmabuf) comes back in the iov with no devmem cmsg at all.
 *  - Without MSG_SOCK_DEVMEM, devmem data fails with EFAULT (once the bytes
 *    already copied in that call are returned) and stays queued.
 *    recv(MSG_TRUNC) skips the copy and so discards devmem data like any
 *    other: trunc mode works whichever queue the flow lands on.
 *  - When the control buffer has no room for the next cmsg, the call ends
 *    early with what it has; it never truncates (no MSG_CTRUNC).
 *  - SO_DEVMEM_DONTNEED takes at most 128 dmabuf_tokens and frees at most
 *    1024 frags per call, returning how many it freed.
 *
 * And for sending (devmem TX, and MSG_ZEROCOPY as since 4.14):
 *  - sendmsg(MSG_ZEROCOPY) on a socket with SO_ZEROCOPY pins the bytes
 *    until the skbs carrying them are freed (acked); only then does a
 *    completion come on the error queue, so a buffer region is rewritten
 *    only once the calls that sent it have completed.  Calls are numbered
 *    from 0 per socket, one number per call that sent anything; a
 *    completion (SO_EE_ORIGIN_ZEROCOPY) is the inclusive range
 *    ee_info..ee_data, SO_EE_CODE_ZEROCOPY_COPIED if the kernel copied
 *    instead (the kernel merges adjacent ranges, keeping the first one's
 *    code).  Notifications use the socket's optmem: ENOBUFS until some are
 *    read.
 *  - With an SCM_DEVMEM_DMABUF cmsg (a __u32 binding id), iov_base is an
 *    offset into the binding's dmabuf.  Refusals: EINVAL without
 *    MSG_ZEROCOPY or SO_ZEROCOPY, ENOENT for an unknown (other netns,
 *    unbound) binding, EOPNOTSUPP for an rx binding, ENODEV when the
 *    socket's route leaves through another device (SO_BINDTODEVICE pins
 *    it), EFAULT for an iov outside the dmabuf.
 *  - The pattern is different on every lap of a window of any size: the
 *    client writes each lap anew, as an application produces new data.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "devmem-nc.h"

/* kernel-internal errno tcp_recvmsg_dmabuf can leak: no room for a cmsg */
#define ERRNO_ETOOSMALL		525

const char * const mode_names[] = {
	[MODE_DEVMEM]	= "devmem",
	[MODE_PLAIN]	= "plain",
	[MODE_BOUNCE]	= "bounce",
	[MODE_TRUNC]	= "trunc",
	NULL,
};

const char * const tx_names[] = {
	[TX_COPY]	= "copy",
	[TX_DEVMEM]	= "devmem",
	[TX_BOUNCE]	= "bounce",
	[TX_ZEROCOPY]	= "zerocopy",
	NULL,
};

const char * const lifetime_names[] = {
	[DEVMEM_LIFETIME_PERSISTENT]	= "persistent",
	[DEVMEM_LIFETIME_SOCKET]	= "socket",
};

char run_error[512];

static void __attribute__((format(printf, 2, 0)))
vmsg(const char *tail, const char *fmt, va_list ap)
{
	fputs("devmem-nc: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
}

void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("\n", fmt, ap);
	va_end(ap);
}

/* Print a runtime error and keep it for the JSON summary; returns -1. */
int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run_error, sizeof(run_error), fmt, ap);
	va_end(ap);
	msg("%s", run_error);
	return -1;
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("\nTry 'devmem-nc -h' for more information.\n", fmt, ap);
	va_end(ap);
	exit(2);
}

const char *errno_name(int err)
{
	static char buf[32];
	const char *name;

	if (err == ERRNO_ETOOSMALL)
		return "ETOOSMALL";
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv_seconds(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

/* This process's CPU time (all threads) so far, user and system. */
void cpu_times(double *user, double *sys)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0) {
		*user = *sys = 0;
		return;
	}
	*user = tv_seconds(&ru.ru_utime);
	*sys = tv_seconds(&ru.ru_stime);
}

int main(int argc, char **argv)
{
	struct opts o;

	parse_opts(&o, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	return o.listen ? run_server(&o) : run_client(&o);
}
