// SPDX-License-Identifier: GPL-2.0
/* devmem-nc's summaries: one line of text, or one JSON object (-j). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "devmem-nc.h"

static void json_add_u64(struct json_object *j, const char *key, uint64_t val)
{
	json_object_object_add(j, key, json_object_new_int64(val));
}

static void json_add_str(struct json_object *j, const char *key,
			 const char *val)
{
	json_object_object_add(j, key, json_object_new_string(val));
}

static void json_add_bool(struct json_object *j, const char *key, bool val)
{
	json_object_object_add(j, key, json_object_new_boolean(val));
}

/* One line on stdout; the error key only when the run failed. */
static void json_print(struct json_object *j, bool failed)
{
	int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

	if (failed)
		json_object_object_add(j, "error",
				       json_object_new_string(run_error));
	printf("%s\n", json_object_to_json_string_ext(j, flags));
	json_object_put(j);
}

void print_server_summary(const struct opts *o, const struct stats *st,
				 bool failed)
{
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "mode",
				       json_object_new_string(mode_names[o->mode]));
		if (o->raw_loop)
			json_add_bool(j, "raw-loop", true);
		json_add_u64(j, "bytes", st->bytes);
		json_add_u64(j, "dmabuf-bytes", st->dmabuf_bytes);
		json_add_u64(j, "linear-bytes", st->linear_bytes);
		json_add_u64(j, "plain-bytes", st->plain_bytes);
		json_add_u64(j, "dmabuf-frags", st->dmabuf_frags);
		json_add_u64(j, "linear-frags", st->linear_frags);
		json_add_u64(j, "tokens-returned", st->tokens_returned);
		json_add_u64(j, "tokens-held", st->tokens_held);
		if (st->have_dmabuf_id)
			json_add_u64(j, "dmabuf-id", st->dmabuf_id);
		json_object_object_add(j, "family",
				       json_object_new_string(st->family));
		if (st->have_binding_id)
			json_add_u64(j, "binding-id", st->binding_id);
		if (strcmp(st->family, "none"))
			json_object_object_add(j, "lifetime",
				json_object_new_string(lifetime_names[o->lifetime]));
		json_object_object_add(j, "seconds",
				       json_object_new_double(st->seconds));
		json_object_object_add(j, "cpu-user-seconds",
				       json_object_new_double(st->cpu_user));
		json_object_object_add(j, "cpu-sys-seconds",
				       json_object_new_double(st->cpu_sys));
		json_add_u64(j, "bytes-copied", st->copied_bytes);
		json_add_bool(j, "validated", o->validate && o->mode != MODE_TRUNC);
		json_add_u64(j, "errors", st->errors);
		json_add_u64(j, "urgent-signals", st->urgent_signals);
		if (o->expect_efault) {
			json_add_bool(j, "efault", st->efault);
			if (st->efault)
				json_add_u64(j, "efault-offset", st->efault_offset);
		}
		json_print(j, failed);
		return;
	}

	if (failed && !st->bytes)
		return;
	printf("received %" PRIu64 " bytes", st->bytes);
	if (o->mode == MODE_DEVMEM) {
		printf(": %" PRIu64 " via dmabuf (%" PRIu64 " frags), %" PRIu64 " via linear",
		       st->dmabuf_bytes, st->dmabuf_frags, st->linear_bytes);
		if (st->plain_bytes)
			printf(", %" PRIu64 " as ordinary data (not on a bound queue)",
			       st->plain_bytes);
	} else {
		printf(" (%s)", mode_names[o->mode]);
	}
	if (o->mode == MODE_TRUNC || !o->validate)
		printf("; not validated");
	else if (st->errors)
		printf("; %" PRIu64 " bytes INVALID, first at offset %" PRIu64,
		       st->errors, st->first_bad);
	else
		printf("; all bytes valid");
	if (o->hoard)
		printf("; %" PRIu64 " tokens held", st->tokens_held);
	if (st->urgent_signals)
		printf("; %" PRIu64 " urgent signals", st->urgent_signals);
	printf("; %.1fs; CPU %.2fs user, %.2fs sys; %" PRIu64 " bytes copied\n",
	       st->seconds, st->cpu_user, st->cpu_sys, st->copied_bytes);
}

void print_client_summary(const struct opts *o,
				 const struct tx_stats *st, uint64_t window,
				 bool failed)
{
	bool zc = o->tx == TX_DEVMEM || o->tx == TX_ZEROCOPY;

	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_add_str(j, "tx", tx_names[o->tx]);
		if (o->raw_loop)
			json_add_bool(j, "raw-loop", true);
		json_add_u64(j, "bytes", st->bytes);
		if (o->tx == TX_DEVMEM) {
			json_add_str(j, "family", st->family);
			if (st->have_binding_id)
				json_add_u64(j, "binding-id", st->binding_id);
			if (strcmp(st->family, "none"))
				json_add_str(j, "lifetime",
					     lifetime_names[o->lifetime]);
		}
		if (o->tx == TX_DEVMEM || o->tx == TX_BOUNCE)
			json_add_u64(j, "dmabuf-size", window);
		else if (o->tx == TX_ZEROCOPY)
			json_add_u64(j, "buffer-size", window);
		json_add_u64(j, "sendmsg-calls", st->calls);
		if (zc) {
			json_add_u64(j, "completions", st->completions);
			json_add_u64(j, "completions-copied",
				     st->completions_copied);
		}
		json_object_object_add(j, "seconds",
				       json_object_new_double(st->seconds));
		json_object_object_add(j, "cpu-user-seconds",
				       json_object_new_double(st->cpu_user));
		json_object_object_add(j, "cpu-sys-seconds",
				       json_object_new_double(st->cpu_sys));
		json_add_u64(j, "bytes-copied", st->copied_bytes);
		json_print(j, failed);
		return;
	}

	if (failed)
		return;
	printf("sent %" PRIu64 " bytes (%s", st->bytes, tx_names[o->tx]);
	if (st->have_binding_id)
		printf(", binding %u", st->binding_id);
	printf(") in %" PRIu64 " %s calls", st->calls,
	       zc ? "sendmsg" : "send");
	if (zc)
		printf(", all completed, %" PRIu64 " of them copied by the kernel",
		       st->completions_copied);
	printf("; %.1fs; CPU %.2fs user, %.2fs sys; %" PRIu64 " bytes copied\n",
	       st->seconds, st->cpu_user, st->cpu_sys, st->copied_bytes);
}
