// SPDX-License-Identifier: GPL-2.0
/*
 * devmemctl - manage devmem TCP: bindings, device setup, steering, stats.
 *
 *   devmemctl [ OPTIONS ] OBJECT { COMMAND | help }
 *
 * The grammar and output follow iproute2 and bpftool: keyword-value
 * arguments with exact keyword matching, one print call per field serving
 * text and JSON, errors as "Error: MSG." (or {"error": MSG} with -j).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "devmemctl.h"

#ifndef DEVMEMCTL_VERSION
#define DEVMEMCTL_VERSION "0.1"
#endif

bool json_out;
bool pretty_out;
const char *netns_name;

static const char *prog = "devmemctl";

/* ---- messages ------------------------------------------------------------ */

const char *errno_name(int err)
{
	static char buf[32];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static bool use_syslog;

void log_to_syslog(void)
{
	openlog("devmemctl", LOG_PID | LOG_CONS, LOG_DAEMON);
	use_syslog = true;
}

static void vmessage(const char *fmt, va_list ap, bool is_error)
{
	char msg[1024];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (use_syslog) {
		syslog(is_error ? LOG_ERR : LOG_WARNING, "%s", msg);
		return;
	}
	if (json_out && is_error) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(msg));
		printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		fflush(stdout);
		return;
	}
	n = strlen(msg);
	fprintf(stderr, "%s: %s%s\n", is_error ? "Error" : "Warning", msg,
		n && strchr(".!?", msg[n - 1]) ? "" : ".");
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, true);
	va_end(ap);
	return EXIT_ERR;
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, false);
	va_end(ap);
}

/* ---- arguments --------------------------------------------------------------- */

bool is_kw(const char *arg, const char *kw)
{
	return arg && !strcmp(arg, kw);
}

bool is_help(const char *arg)
{
	return is_kw(arg, "help") || is_kw(arg, "-h") || is_kw(arg, "--help");
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, true);
	va_end(ap);
	if (!json_out)
		fprintf(stderr, "Try '%s help'.\n", prog);
	return EXIT_USAGE;
}

int usage_missing(const char *kw)
{
	return usage_error("\"%s\" needs a value", kw);
}

int usage_bad(const char *kw, const char *val, const char *why)
{
	return usage_error("invalid %s \"%s\"%s%s", kw, val, why ? ": " : "",
			   why ?: "");
}

int usage_unknown(const char *object, const char *arg)
{
	return usage_error("unknown %s \"%s\"", object, arg);
}

int usage_dup(const char *kw, const char *val)
{
	if (!val)
		return usage_error("duplicate \"%s\"", kw);
	return usage_error("duplicate \"%s\": \"%s\" is the second value", kw, val);
}

int parse_u32(const char *kw, const char *val, uint32_t min, uint32_t max,
	      uint32_t *out)
{
	char why[64];

	if (!devmem_parse_u32(val, min, max, out))
		return 0;
	snprintf(why, sizeof(why), "expected a number %u..%u", min, max);
	return usage_bad(kw, val ?: "", why);
}

/* ---- output --------------------------------------------------------------- */

static struct json_object *out_root, *out_list, *out_cur;
static bool out_first, out_doc;

static void out_print_json(struct json_object *o)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	flags |= pretty_out ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			    : JSON_C_TO_STRING_PLAIN;
	printf("%s\n", json_object_to_json_string_ext(o, flags));
	fflush(stdout);
}

/* a document: objects outside lists put their fields in the top-level
 * object, lists become its members
 */
void out_doc_begin(void)
{
	if (!json_out)
		return;
	out_root = json_object_new_object();
	out_doc = true;
}

void out_doc_end(void)
{
	if (!json_out)
		return;
	out_print_json(out_root);
	json_object_put(out_root);
	out_root = NULL;
	out_doc = false;
}

void out_list_begin(const char *name)
{
	if (!json_out)
		return;
	if (!out_doc)
		out_root = json_object_new_object();
	out_list = json_object_new_array();
	json_object_object_add(out_root, name, out_list);
}

void out_list_end(void)
{
	if (!json_out || !out_root)
		return;
	out_list = NULL;
	if (out_doc)
		return;
	out_print_json(out_root);
	json_object_put(out_root);
	out_root = NULL;
}

void out_obj_begin(void)
{
	out_first = true;
	if (!json_out)
		return;
	out_cur = out_doc && !out_list ? out_root : json_object_new_object();
}

void out_obj_end(void)
{
	if (!json_out) {
		printf("\n");
		fflush(stdout);
		return;
	}
	if (out_cur == out_root) {
		/* fields of the document itself */
	} else if (out_list) {
		json_object_array_add(out_list, out_cur);
	} else {
		out_print_json(out_cur);
		json_object_put(out_cur);
	}
	out_cur = NULL;
}

static void text_sep(void)
{
	if (!out_first)
		putchar(' ');
	out_first = false;
}

void out_u64(const char *key, const char *text_fmt, uint64_t v)
{
	if (json_out) {
		json_object_object_add(out_cur, key, json_object_new_uint64(v));
		return;
	}
	text_sep();
	printf(text_fmt, v);
}

void out_str(const char *key, const char *text_fmt, const char *s)
{
	if (json_out) {
		json_object_object_add(out_cur, key, json_object_new_string(s));
		return;
	}
	text_sep();
	printf(text_fmt, s);
}

void out_u32_array(const char *key, const char *text_word,
		   const uint32_t *v, unsigned int n)
{
	unsigned int i;

	if (json_out) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_int64(v[i]));
		json_object_object_add(out_cur, key, a);
		return;
	}
	text_sep();
	printf("%s ", text_word);
	for (i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", v[i]);
	if (!n)
		printf("none");
}

void fmt_addr(char *buf, size_t len, int family, const uint8_t *addr)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

/* -X, -LONG or --LONG (iproute2 takes both long forms) */
static bool is_opt(const char *arg, const char *s, const char *l)
{
	if (is_kw(arg, s))
		return true;
	if (arg[0] != '-')
		return false;
	arg += arg[1] == '-' ? 2 : 1;
	return is_kw(arg, l);
}

/* ---- netns ----------------------------------------------------------------- */

static int enter_netns(const char *name)
{
	char path[4096];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error("cannot open network namespace \"%s\": %s", name,
			     strerror(errno));
	if (setns(fd, CLONE_NEWNET)) {
		int err = errno;

		close(fd);
		return error("cannot enter network namespace \"%s\": %s", name,
			     strerror(err));
	}
	close(fd);
	return 0;
}

/* ---- top level ------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: devmemctl [ OPTIONS ] OBJECT { COMMAND | help }\n"
"       devmemctl [ -force ] -batch FILENAME\n"
"where  OBJECT := { binding | dev | monitor | steer | stats }\n"
"       OPTIONS := { -V[ersion] | -j[son] | -p[retty] | -n[etns] NETNS |\n"
"                    -b[atch] FILENAME [ -f[orce] ] }\n"
"       (long options take one dash or two; -p implies -j)\n"
"An object alone shows it; 'help' after any command prints its usage.\n"
"Aliases: 'bind' is 'binding add', 'unbind' is 'binding del'.\n"
"Exit status: 0 ok, 1 error, 2 usage error.\n");
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} objects[] = {
	{ "binding", do_binding },
	{ "bind", do_bind },
	{ "unbind", do_unbind },
	{ "dev", do_dev },
	{ "monitor", do_monitor },
	{ "steer", do_steer },
	{ "stats", do_stats },
};

int usage_short(void (*usage_fn)(FILE *f), const char *what)
{
	if (json_out)
		return usage_error("%s", what);
	usage_fn(stderr);
	return EXIT_USAGE;
}

static int do_cmd(int argc, char **argv)
{
	unsigned int i;

	if (argc < 1)
		return usage_short(usage, "no object given");
	if (is_help(argv[0])) {
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < ARRAY_SIZE(objects); i++)
		if (is_kw(argv[0], objects[i].name))
			return objects[i].fn(argc - 1, argv + 1);
	return usage_unknown("object", argv[0]);
}

/* one command per line; # comments; words split on blanks, "..." quotes */
static int do_batch(const char *file, bool force)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	int ret = EXIT_OK;

	if (!f)
		return error("cannot open batch file \"%s\": %s", file,
			     strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		char *argv[128], *p = line;
		int argc = 0, r;

		lineno++;
		while (*p && argc < (int)ARRAY_SIZE(argv) - 1) {
			while (*p == ' ' || *p == '\t' || *p == '\n')
				p++;
			if (!*p || *p == '#')
				break;
			if (*p == '"') {
				argv[argc++] = ++p;
				p = strchrnul(p, '"');
			} else {
				argv[argc++] = p;
				p += strcspn(p, " \t\n");
			}
			if (*p)
				*p++ = '\0';
		}
		if (!argc)
			continue;
		argv[argc] = NULL;
		r = do_cmd(argc, argv);
		if (r) {
			fprintf(stderr, "Command failed %s:%u\n", file, lineno);
			ret = r;
			if (!force)
				break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	const char *batch = NULL;
	bool force = false;

	prog = "devmemctl";
	NEXT_ARG();
	while (argc > 0 && argv[0][0] == '-') {
		const char *o = argv[0];

		if (is_opt(o, "-j", "json")) {
			json_out = true;
		} else if (is_opt(o, "-p", "pretty")) {
			/* pretty is of JSON, as in iproute2 and bpftool */
			pretty_out = json_out = true;
		} else if (is_opt(o, "-V", "Version") || is_opt(o, "-V", "version")) {
			printf("devmemctl %s\n", DEVMEMCTL_VERSION);
			return EXIT_OK;
		} else if (is_opt(o, "-n", "netns")) {
			NEXT_VAL(o);
			netns_name = argv[0];
		} else if (is_opt(o, "-b", "batch")) {
			NEXT_VAL(o);
			batch = argv[0];
		} else if (is_opt(o, "-f", "force")) {
			force = true;
		} else if (is_help(o)) {
			usage(stdout);
			return EXIT_OK;
		} else {
			return usage_unknown("option", o);
		}
		NEXT_ARG();
	}
	if (netns_name && enter_netns(netns_name))
		return EXIT_ERR;
	if (batch) {
		if (argc)
			return usage_error("-batch takes no command line");
		return do_batch(batch, force);
	}
	return do_cmd(argc, argv);
}
