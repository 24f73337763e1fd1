#!/bin/bash
# Install the patched tree's uAPI headers into $BUILD/usr/include, the
# headers all of our user space compiles against. Skips when the tree's
# include/uapi did not change.
set -euo pipefail
KSRC=${KSRC:?KSRC not set}
BUILD=${BUILD:?BUILD not set}
out=$BUILD/usr
want=$( (git -C "$KSRC" rev-parse HEAD:include/uapi HEAD:arch/x86/include/uapi
	git -C "$KSRC" diff HEAD -- include/uapi arch/x86/include/uapi) | sha1sum | cut -d' ' -f1)
[ "$(cat "$out/.devmem-state" 2>/dev/null)" = "$want" ] && exit 0
echo "  HEADERS usr/include"
mkdir -p "$BUILD/headers-obj"
make -s -C "$KSRC" O="$BUILD/headers-obj" ARCH=x86_64 INSTALL_HDR_PATH="$out" headers_install
echo "$want" > "$out/.devmem-state"
