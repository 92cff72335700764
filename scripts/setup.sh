#!/usr/bin/env bash
# Installs every build and test dependency on a Debian 12 machine. Idempotent:
# a second run checks and returns in a second or two.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

APT_PKGS=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils kmod
	rsync python3 libclang-19-dev clang-19 lld-19 llvm-19
	# VM and guest userspace
	qemu-system-x86 busybox-static fio iproute2 open-iscsi multipath-tools
	e2fsprogs util-linux procps sg3-utils
	# host interop target and tools
	tgt shellcheck
	# make bench: the failover throughput plot
	gnuplot-nox
)

missing=()
for p in "${APT_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing apt packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	quiet apt-get update
	quiet apt-get install -y --no-install-recommends "${missing[@]}"
	# Packages that start daemons on install must not hold ports or sessions here.
	systemctl disable --now tgt iscsid open-iscsi multipathd >/dev/null 2>&1 || true
fi

if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	log "installing rust-src"
	quiet rustup component add rust-src
fi

if ! rustup target list --installed 2>/dev/null | grep -q '^x86_64-unknown-none'; then
	log "installing the x86_64-unknown-none target (no_std build check)"
	quiet rustup target add x86_64-unknown-none
fi

if ! command -v bindgen >/dev/null || ! bindgen --version | grep -q '0\.7[1-9]'; then
	log "installing bindgen-cli (about a minute)"
	quiet cargo install --locked bindgen-cli
fi
if ! command -v cargo-fuzz >/dev/null; then
	log "installing cargo-fuzz"
	quiet cargo install --locked cargo-fuzz
fi
log "setup: $(rustc --version), $(bindgen --version)"
