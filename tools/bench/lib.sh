# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared by the benchmarks that run inside the VM (rx.sh, bpf.sh): one
# measured transfer, medians, ratios and target lines. The caller sets
# T (scratch directory), PORT, SIZE and size_bytes.
# shellcheck source=selftests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../selftests/lib.sh"

NC=$BUILD/tools/devmem-nc
export LC_ALL=C

die() { echo "bench: $*" >&2; exit 1; }

# transfer LABEL RUN SERVER_ARGS...: one transfer of $SIZE to a devmem-nc
# server started with SERVER_ARGS; appends "goodput MiB/s, receiver CPU
# s/GiB, bytes copied per byte" to $T/LABEL.tsv
transfer() {
	local label=$1 run=$2 out=$T/$1-$2 srv cli_rc srv_rc; shift 2
	local args=(-l -a "$SRV_IP" -p "$PORT" -j --timeout 60 --no-validate -s "$SIZE" "$@")

	in_srv "$NC" "${args[@]}" > "$out.json" 2> "$out.err" &
	srv=$!
	if ! wait_listen "$NS_SRV" "$PORT"; then
		kill "$srv" 2> /dev/null
		wait "$srv"
		echo "bench: $label run $run: the server did not start: $(cat "$out.err")" >&2
		return 1
	fi
	in_cli "$NC" -c "$SRV_IP" -p "$PORT" -s "$SIZE" --timeout 60 \
		> /dev/null 2> "$out.cli.err"
	cli_rc=$?
	wait "$srv"
	srv_rc=$?
	if [ $cli_rc -ne 0 ] || [ $srv_rc -ne 0 ]; then
		echo "bench: $label run $run failed: server: $(cat "$out.err"); client: $(cat "$out.cli.err")" >&2
		return 1
	fi
	# the fields the table needs (an old devmem-nc lacks the CPU ones)
	jq -e --argjson n "$size_bytes" '.bytes == $n and .seconds > 0 and
		(."cpu-user-seconds" | type) == "number" and
		(."cpu-sys-seconds" | type) == "number" and
		(."bytes-copied" | type) == "number"' "$out.json" > /dev/null || {
		echo "bench: $label run $run: unexpected summary: $(cat "$out.json")" >&2
		return 1
	}
	# devmem must really have been devmem: payload through the dmabuf
	if [ "$(jq -r .mode "$out.json")" = devmem ] &&
	   [ "$(jq '."plain-bytes"' "$out.json")" != 0 ]; then
		echo "bench: $label run $run: the flow was not on a bound queue: $(cat "$out.json")" >&2
		return 1
	fi
	jq -r '[.bytes / .seconds / 1048576,
		(."cpu-user-seconds" + ."cpu-sys-seconds") / (.bytes / 1073741824),
		."bytes-copied" / .bytes] | @tsv' "$out.json" >> "$T/$label.tsv"
	local g c b
	read -r g c b < <(tail -n 1 "$T/$label.tsv")
	printf '# %-10s run %d: %8.1f MiB/s, %.3f CPU s/GiB, %.6f bytes copied per byte\n' \
		"$label" "$run" "$g" "$c" "$b" >&2
}

# median LABEL COLUMN: the median of a column over the label's runs
median() {
	cut -f "$2" "$T/$1.tsv" 2> /dev/null | sort -g |
		awk '{ v[NR] = $1 } END {
			if (!NR) exit 1
			if (NR % 2) print v[(NR + 1) / 2]
			else printf "%.17g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# runs LABEL: how many runs of LABEL succeeded
runs() { [ -f "$T/$1.tsv" ] && wc -l < "$T/$1.tsv" || echo 0; }

# target WHAT RATIO OP NUM DEN: one line, "RATIO (target OP NUM/DEN) PASS|MISS"
target() {
	local what=$1 ratio=$2 op=$3 num=$4 den=$5 verdict limit=$4
	[ "$den" = 1 ] || limit=$num/$den
	if [ -z "$ratio" ]; then
		printf -- '- %s: n/a, nothing to compare (target %s %sx) MISS\n' \
			"$what" "$op" "$limit"
		return
	fi
	verdict=$(awk -v r="$ratio" -v n="$num" -v d="$den" -v op="$op" 'BEGIN {
		ok = op == ">=" ? r >= n / d : r <= n / d
		print ok ? "PASS" : "MISS" }')
	printf -- '- %s: %.2fx (target %s %sx) %s\n' "$what" "$ratio" "$op" \
		"$limit" "$verdict"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.17g\n", a / b }'; }

# bench_init: check the size and runs, a fresh $T
# run_order RUN MODE...: the modes in the order run RUN takes them, the
# reverse on even runs, so that a drift over the runs (a machine warming
# up, caches) does not favour the modes that come late in every run
run_order() {
	local run=$1 i; shift
	if [ $((run % 2)) -eq 1 ]; then
		echo "$@"
	else
		for ((i = $#; i >= 1; i--)); do echo -n "${!i} "; done
		echo
	fi
}

bench_init() {
	size_bytes=$(numfmt --from=iec "$SIZE" 2> /dev/null)
	[[ $size_bytes =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZE '$SIZE' is not a size"
	[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS '$RUNS' is not a positive number"
	[ -x "$NC" ] || die "$NC missing (make tools)"
	command -v jq > /dev/null || die "jq missing"
	rm -rf "$T"
	mkdir -p "$T" || die "cannot create $T"
}
