#!/bin/bash
# Make $KSRC a git tree of the base kernel with kernel/series applied.
#
# The tree is reused across runs. It is rebuilt from the base commit only
# when kernel/series or a patch changed; commits a developer made in the
# tree (make kernel-tree) are never thrown away silently: export them with
# 'make kernel-patches' first.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
KSRC=${KSRC:?KSRC not set}
TARBALL=${TARBALL:-/usr/src/linux-source-6.12.tar.xz}
q() { [ -n "${V:-}" ] && echo "+ $*" >&2; "$@"; }
git_k() { git -C "$KSRC" -c user.name=devmem-build -c user.email=devmem-build@localhost "$@"; }

series_list() { grep -v -e '^#' -e '^$' "$top/kernel/series" || true; }

series_hash() {
	(cd "$top/kernel" && cat series &&
		series_list | sed 's|^|patches/|' | xargs -r cat) | sha1sum | cut -d' ' -f1
}

stamp=$KSRC/.git/devmem-series
want=$(series_hash)

if [ "${1:-}" = --stamp-only ]; then
	echo "$want $(git -C "$KSRC" rev-parse HEAD)" > "$stamp"
	exit 0
fi

if [ ! -d "$KSRC/.git" ]; then
	[ -f "$TARBALL" ] || { echo "tree: $TARBALL missing (tools/deps.sh installs linux-source-6.12)" >&2; exit 2; }
	echo "  UNPACK  $TARBALL"
	rm -rf "$KSRC.tmp"
	mkdir -p "$KSRC.tmp"
	q tar -xJf "$TARBALL" -C "$KSRC.tmp" --strip-components=1
	git -C "$KSRC.tmp" init -q -b base
	git -C "$KSRC.tmp" config core.untrackedCache true
	# Debian's top-level .gitignore ignores everything ("/*"), which would
	# hide every new file a developer adds: drop that block in the base.
	sed -i '/^# Debian packaging/,$d' "$KSRC.tmp/.gitignore"
	sed -i '${/^#$/d}' "$KSRC.tmp/.gitignore"
	git -C "$KSRC.tmp" add -A -f
	git -C "$KSRC.tmp" -c user.name=devmem-build -c user.email=devmem-build@localhost \
		commit -q -m "Linux $(make -s -C "$KSRC.tmp" kernelversion) (Debian linux-source-6.12)"
	git -C "$KSRC.tmp" tag devmem-base
	mv "$KSRC.tmp" "$KSRC"
fi

if [ -f "$stamp" ]; then
	read -r have head < "$stamp"
	[ "$have" = "$want" ] && exit 0
	if [ "$(git -C "$KSRC" rev-parse HEAD)" != "$head" ] || [ -n "$(git -C "$KSRC" status --porcelain -uno)" ]; then
		echo "tree: $KSRC has commits or changes that are not in kernel/patches," >&2
		echo "tree: and kernel/series changed too. Run 'make kernel-patches' to export them," >&2
		echo "tree: or discard them with: git -C $KSRC reset --hard $head" >&2
		exit 1
	fi
fi

echo "  SERIES  kernel/series"
git_k checkout -q -B devmem devmem-base
git_k reset -q --hard devmem-base
series_list | while read -r p; do
	[ -n "${V:-}" ] && echo "+ git am $p" >&2
	if ! git_k am -q --keep-cr "$top/kernel/patches/$p"; then
		git_k am --abort || true
		echo "tree: patch $p does not apply" >&2
		exit 1
	fi
done
echo "$want $(git -C "$KSRC" rev-parse HEAD)" > "$stamp"
