#!/bin/bash
# Export the commits of the kernel tree (devmem-base..HEAD) to
# kernel/patches/ and kernel/series: the inverse of tree.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
KSRC=${KSRC:?KSRC not set}

if [ -n "$(git -C "$KSRC" status --porcelain -uno)" ]; then
	echo "kernel-patches: $KSRC has uncommitted changes; commit them first" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --zero-commit and no signature keep unchanged patches byte-identical
git -C "$KSRC" format-patch -q --no-numbered --zero-commit --no-signature -o "$tmp" devmem-base..HEAD

rm -f "$top"/kernel/patches/*.patch
mkdir -p "$top/kernel/patches"
{
	echo "# Applied in order on top of the base tree by kernel/scripts/tree.sh."
	echo "# Regenerate with 'make kernel-patches' from the tree 'make kernel-tree' leaves."
	for p in "$tmp"/*.patch; do
		[ -e "$p" ] || continue
		cp "$p" "$top/kernel/patches/"
		basename "$p"
	done
} > "$top/kernel/series"

# The tree now matches the series: record it so tree.sh leaves it alone.
KSRC=$KSRC "$top/kernel/scripts/tree.sh" --stamp-only
echo "  EXPORT  $(grep -vc '^#' "$top/kernel/series") patches to kernel/patches/"
