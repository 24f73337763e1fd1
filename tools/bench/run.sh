#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 'make bench', host side: boot the fast kernel (build/kernel-fast) in the
# VM, run the benchmarks there (tools/bench/rx.sh, bpf.sh, tx.sh;
# BENCH_ONLY="rx" picks some) and keep their tables in build/bench/NAME.md.
# BENCH_SIZE and BENCH_RUNS pass through to the guest; BENCH_TIMEOUT bounds
# the whole VM run (default 3600 s).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
scratch=$build/vm/bench
out=$build/bench

export DEVMEM_KERNEL=fast
kernel=$build/kernel-$DEVMEM_KERNEL/arch/x86/boot/bzImage
[ -f "$kernel" ] || { echo "bench: no kernel at $kernel (run 'make kernel-fast')" >&2; exit 2; }
for t in tools/devmem-nc ctl/devmemctl selftests/devmem_nl; do
	[ -x "$build/$t" ] || { echo "bench: $build/$t missing (run 'make tools selftests')" >&2; exit 2; }
done

# tools/vm/run only forwards its own variables into the guest
env=()
for v in BENCH_SIZE BENCH_RUNS; do
	[ -n "${!v:-}" ] && env+=("$v=${!v}")
done

benches=(${BENCH_ONLY:-rx bpf tx})
cmd=
for b in "${benches[@]}"; do
	[ -x "$top/tools/bench/$b.sh" ] || { echo "bench: no benchmark '$b'" >&2; exit 2; }
	cmd+="env ${env[*]} $top/tools/bench/$b.sh || rc=1; "
done

cd "$top" || exit 1
tools/vm/run -t "${BENCH_TIMEOUT:-3600}" -s "$scratch" -- \
	bash -c "rc=0; $cmd exit \$rc"
rc=$?

mkdir -p "$out"
for b in "${benches[@]}"; do
	if [ -s "$scratch/bench-$b.md" ]; then
		cp "$scratch/bench-$b.md" "$out/$b.md" && echo "bench: table saved in $out/$b.md"
	else
		echo "bench: $b left no table (exit $rc; console log in $scratch/console.log)" >&2
		[ $rc -eq 0 ] && rc=1
	fi
done
exit $rc
