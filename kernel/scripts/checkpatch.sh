#!/bin/bash
# Run the base tree's checkpatch.pl --strict over every patch in
# kernel/series. Any ERROR, WARNING or CHECK fails, unless the patch and the
# message type are listed in kernel/checkpatch-allow with a reason.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
KSRC=${KSRC:?KSRC not set}
allow=$top/kernel/checkpatch-allow

bad=0 n=0
while read -r p; do
	case $p in ''|'#'*) continue ;; esac
	n=$((n + 1))
	ignore=$(grep -s "^$p " "$allow" | awk '{print $2}' | paste -sd, -)
	# Debian's python3 has ply for the SPDX check, a pyenv one may not
	out=$(cd "$KSRC" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --no-summary --terse --show-types \
		${ignore:+--ignore "$ignore"} "$top/kernel/patches/$p")
	if [ -n "$out" ]; then
		echo "$out"
		bad=$((bad + 1))
	fi
done < "$top/kernel/series"
echo "  CHECKPATCH $n patches, $bad with findings"
[ $bad -eq 0 ]
