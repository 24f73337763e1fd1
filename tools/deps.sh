#!/bin/bash
# Install the Debian 12 packages the build, the VM tests and the demo need.
# The guest runs these same host binaries over 9p, so this is the only
# install step for both host and guest.
set -euo pipefail

PACKAGES=(
	# kernel build
	linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev
	dwarves rsync ccache cpio xz-utils git python3 python3-yaml python3-ply python3-git python3-jsonschema
	# VM
	qemu-system-x86
	# user space: BPF, netlink, JSON
	clang llvm libbpf-dev bpftool libnl-3-dev libnl-genl-3-dev
	# the ASan/UBSan devmemctl (clang: its runtime is only a Recommends)
	libclang-rt-14-dev
	libjson-c-dev libmnl-dev libcap-dev pkg-config
	# tools the guest and the tests run
	iproute2 ethtool netcat-openbsd iputils-ping jq kmod procps util-linux
	tcpdump
	# nfqueue over a devmem flow (selftests/devmem_tcp_paths.sh)
	nftables
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root: apt-get install ${missing[*]}" >&2
	exit 2
fi

echo "  DEPS    installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq || ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
	echo "deps: apt-get could not install: ${missing[*]}" >&2
	exit 2
fi
