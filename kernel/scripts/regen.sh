#!/bin/bash
# The devmem family is spec first: Documentation/netlink/specs/devmem.yaml
# (this repository) is the source; the kernel's policy and ops, the uAPI
# header and the family's documentation are generated from it with the
# base tree's YNL generators, and the results are committed (in the
# kernel series and in include/uapi/).
#   regen.sh          write them: the spec and the generated files into the
#                     kernel tree (fold those into the series, then
#                     `make kernel-patches`), the uAPI header and the RST
#                     into this repository
#   regen.sh --check  regenerate into a scratch dir and fail, naming them,
#                     if any committed file differs (make check runs this)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
KSRC=${KSRC:?KSRC not set}
check=
[ "${1:-}" = --check ] && check=1

spec=Documentation/netlink/specs/devmem.yaml
py=/usr/bin/python3	# Debian's python, with python3-yaml and -jsonschema

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# ynl-gen-c records the spec's path relative to the kernel root, which it
# finds by walking up to a MAINTAINERS file: give it a scratch root with
# the schemas and our spec at the tree's path
mkdir -p "$scratch/tree/$(dirname "$spec")"
: > "$scratch/tree/MAINTAINERS"
cp "$KSRC"/Documentation/netlink/*.yaml "$scratch/tree/Documentation/netlink/"
cp "$top/$spec" "$scratch/tree/$spec"
gen() {
	(cd "$scratch/tree" && "$py" "$KSRC/tools/net/ynl/ynl-gen-c.py" \
		--mode "$1" "--$2" --spec "$spec" -o "$scratch/$3")
}
gen kernel source devmem-genl-gen.c
gen kernel header devmem-genl-gen.h
gen uapi header devmem.h
"$py" "$KSRC/tools/net/ynl/ynl-gen-rst.py" -i "$top/$spec" -o "$scratch/devmem.rst" 2>/dev/null

# generated file -> where it is committed
pairs=(
	"tree/$spec:$KSRC/$spec"
	"devmem-genl-gen.c:$KSRC/net/core/devmem-genl-gen.c"
	"devmem-genl-gen.h:$KSRC/net/core/devmem-genl-gen.h"
	"devmem.h:$KSRC/include/uapi/linux/devmem.h"
	"devmem.h:$top/include/uapi/linux/devmem.h"
	"devmem.rst:$top/Documentation/netlink/devmem.rst"
)

stale=0
for p in "${pairs[@]}"; do
	src=$scratch/${p%%:*} dst=${p#*:}
	if cmp -s "$src" "$dst"; then
		continue
	fi
	if [ -n "$check" ]; then
		echo "regen: ${dst#"$top"/} is stale (run 'make regen')" >&2
		stale=1
	else
		mkdir -p "$(dirname "$dst")"
		cp "$src" "$dst"
		echo "  GEN     ${dst#"$top"/}"
	fi
done
[ $stale -eq 0 ]
