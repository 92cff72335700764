#!/usr/bin/env bash
# Prints the QEMU accelerator to use: kvm only when a short boot under KVM
# reaches userspace, tcg otherwise (on this kind of machine KVM hangs at boot).
# The answer is cached per machine and QEMU version.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bzimage=${1:?usage: kvm-probe.sh BZIMAGE}
cache=$RSISCSI_CACHE/kvm-probe-$(qemu-system-x86_64 --version | head -n1 | tr -c 'a-zA-Z0-9.\n' _)
if [ -f "$cache" ]; then
	cat "$cache"
	exit 0
fi
answer=tcg
if [ -w /dev/kvm ] && [ "${RSISCSI_NO_KVM:-}" != 1 ]; then
	# The kernel alone (no initramfs) panics quickly once it reaches the
	# root mount: that line proves the vCPU runs.
	out=$(timeout -k 2 15 qemu-system-x86_64 -accel kvm -m 256M -nographic -no-reboot \
		-kernel "$bzimage" -append "console=ttyS0 panic=-1" </dev/null 2>&1 || true)
	if grep -q 'Kernel panic\|VFS: Unable to mount' <<<"$out"; then
		answer=kvm
	fi
fi
echo "$answer" >"$cache"
echo "$answer"
