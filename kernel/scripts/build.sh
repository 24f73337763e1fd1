#!/bin/bash
# Configure and build one kernel variant out of tree:
#   build.sh debug|fast  ->  $BUILD/kernel-<variant>/arch/x86/boot/bzImage
# Config = tinyconfig + kernel/configs/base.config (+ debug.config).
# Skips kbuild entirely when neither the tree nor the fragments changed.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
variant=${1:?usage: build.sh debug|fast}
KSRC=${KSRC:?KSRC not set}
BUILD=${BUILD:?BUILD not set}
out=$BUILD/kernel-$variant
bzimage=$out/arch/x86/boot/bzImage

case $variant in
debug) frags=("$top/kernel/configs/base.config" "$top/kernel/configs/debug.config") ;;
fast) frags=("$top/kernel/configs/base.config") ;;
*) echo "build.sh: unknown variant '$variant' (debug or fast)" >&2; exit 2 ;;
esac

export KBUILD_BUILD_USER=devmem KBUILD_BUILD_HOST=vm KBUILD_BUILD_TIMESTAMP="@0"
# Paths relative to $BUILD, so clones of the repository in other folders
# (a CI checkout) hit the same ccache entries.
export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=true
kmake() {
	local cc="gcc"
	command -v ccache >/dev/null && cc="ccache gcc"
	make -C "$KSRC" O="$out" ARCH=x86_64 CC="$cc" HOSTCC="$cc" "$@"
}

# What the build depends on: fragments, committed tree, uncommitted edits.
state() {
	cat "${frags[@]}"
	git -C "$KSRC" rev-parse HEAD
	git -C "$KSRC" diff HEAD
	git -C "$KSRC" ls-files -o --exclude-standard -z | xargs -0r sha1sum
}
want=$(state | sha1sum | cut -d' ' -f1)
if [ -f "$bzimage" ] && [ "$(cat "$out/.devmem-state" 2>/dev/null)" = "$want" ]; then
	exit 0
fi

mkdir -p "$out"
log=$out/build.log
: > "$log"
run() {
	if [ -n "${V:-}" ]; then
		"$@" V=1 2>&1 | tee -a "$log"
	else
		"$@" >> "$log" 2>&1
	fi
}
fail() {
	echo "kernel ($variant): $1; last lines of $log:" >&2
	tail -n 40 "$log" >&2
	exit 1
}

fraghash=$(cat "${frags[@]}" | sha1sum | cut -d' ' -f1)
if [ ! -f "$out/.config" ] || [ "$(cat "$out/.devmem-frags" 2>/dev/null)" != "$fraghash" ]; then
	echo "  CONFIG  kernel-$variant"
	run kmake tinyconfig || fail "tinyconfig failed"
	run "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" ||
		fail "merge_config failed"
	run kmake olddefconfig || fail "olddefconfig failed"
	# merge_config -m does not check the result: a symbol whose
	# dependencies are unmet is dropped silently. Check every request.
	bad=0
	for f in "${frags[@]}"; do
		while read -r line; do
			case $line in
			CONFIG_*=*) grep -qx "$line" "$out/.config" || { echo "kernel: $line not in final config ($(basename "$f"))" >&2; bad=1; } ;;
			"# CONFIG_"*" is not set")
				sym=${line#\# }; sym=${sym%% *}
				grep -q "^$sym=" "$out/.config" && { echo "kernel: $sym should be unset ($(basename "$f"))" >&2; bad=1; } ;;
			esac
		done < "$f"
	done
	[ $bad -eq 0 ] || exit 1
	echo "$fraghash" > "$out/.devmem-frags"
fi

echo "  KERNEL  kernel-$variant (log: ${log#"$top"/})"
start=$(date +%s)
run kmake -j"$(nproc)" bzImage || fail "build failed"
echo "  KERNEL  kernel-$variant built in $(($(date +%s) - start))s"
echo "$want" > "$out/.devmem-state"
