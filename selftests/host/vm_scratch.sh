#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/vm/run -s DIR empties DIR before the boot: it must refuse a
# directory that is not one of its own scratch directories (a checkout
# given by mistake), and still empty its own. Runs on the host; no VM boots
# (the kernel is an empty file, which QEMU refuses at once).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib.sh"

tap_plan 4
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
: > "$t/bzImage"
mkdir -p "$t/work" "$t/old" "$t/new"
echo precious > "$t/work/file"

out=$("$top/tools/vm/run" -k "$t/bzImage" -s "$t/work" -- true 2>&1)
rc=$?
refuse() {
	expect_eq "exit and message" \
		"2 vm/run: $t/work is not empty and not a scratch directory of this runner (no .devmem-vm-scratch): refusing to empty it" \
		"$rc $out" &&
	expect_eq "the directory's file" precious "$(cat "$t/work/file" 2>&1)"
}
ok "-s DIR with files and no marker: refused, exit 2, nothing deleted" refuse

# an empty directory becomes a scratch directory: marked
"$top/tools/vm/run" -k "$t/bzImage" -s "$t/new" -- true > /dev/null 2>&1
ok "-s of an empty directory: used and marked" test -f "$t/new/.devmem-vm-scratch"

# a marked one is emptied
echo stale > "$t/new/old-output"
"$top/tools/vm/run" -k "$t/bzImage" -s "$t/new" -- true > /dev/null 2>&1
ok "-s of a marked scratch directory: emptied" test ! -e "$t/new/old-output"

# a scratch directory of an older runner (no marker yet): .cmd and console.log
: > "$t/old/.cmd"; : > "$t/old/console.log"; : > "$t/old/selftests.counts"
"$top/tools/vm/run" -k "$t/bzImage" -s "$t/old" -- true > /dev/null 2>&1
ok "-s of an older runner's scratch directory: emptied and marked" \
	sh -c "test ! -e '$t/old/selftests.counts' && test -f '$t/old/.devmem-vm-scratch'"
tap_done
