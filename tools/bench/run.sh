#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 'make bench', host side: boot the fast kernel (build/kernel-fast) in the
# VM, run the RX benchmark there (tools/bench/rx.sh) and keep its table in
# build/bench/rx.md. BENCH_SIZE and BENCH_RUNS pass through to the guest;
# BENCH_TIMEOUT bounds the whole VM run (default 3600 s).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
scratch=$build/vm/bench
out=$build/bench

export DEVMEM_KERNEL=fast
kernel=$build/kernel-$DEVMEM_KERNEL/arch/x86/boot/bzImage
[ -f "$kernel" ] || { echo "bench: no kernel at $kernel (run 'make kernel-fast')" >&2; exit 2; }
[ -x "$build/tools/devmem-nc" ] || { echo "bench: $build/tools/devmem-nc missing (run 'make tools')" >&2; exit 2; }

# tools/vm/run only forwards its own variables into the guest
env=()
for v in BENCH_SIZE BENCH_RUNS; do
	[ -n "${!v:-}" ] && env+=("$v=${!v}")
done

cd "$top" || exit 1
tools/vm/run -t "${BENCH_TIMEOUT:-3600}" -s "$scratch" -- \
	env "${env[@]}" "$top/tools/bench/rx.sh"
rc=$?

if [ -s "$scratch/bench-rx.md" ]; then
	mkdir -p "$out" && cp "$scratch/bench-rx.md" "$out/rx.md" &&
		echo "bench: RX table saved in $out/rx.md"
else
	echo "bench: the VM run left no table (exit $rc; console log in $scratch/console.log)" >&2
	[ $rc -eq 0 ] && rc=1
fi
exit $rc
