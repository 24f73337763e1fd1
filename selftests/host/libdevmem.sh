#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libdevmem's host unit tests (parsers, the fragment iterator on crafted
# control messages, token release batching, TX completion tracking),
# built with ASan and UBSan. Runs on the host, no VM.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BUILD:-$top/build}/selftests/host/libdevmem_test

if [ ! -x "$bin" ]; then
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 libdevmem_test is not built ($bin)"
	exit 1
fi
# a sanitizer report fails the run, not just the test it happened in
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	"$bin"
