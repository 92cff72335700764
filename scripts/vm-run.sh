#!/usr/bin/env bash
# Boots the guest kernel of a variant under QEMU and runs a command in it.
# The console streams to stdout and to a log; the exit status is the guest
# command's. A guest still running after the timeout is killed and the tail of
# its console shown.
#
# Usage: vm-run.sh [-v test|bench] [-t SECONDS] [-l LOG] [-m MEM] -- COMMAND...
# COMMAND runs under bash in the guest, in /tests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=test timeout_s=600 logf="" mem=2G
while getopts "v:t:l:m:" o; do
	case $o in
	v) variant=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	l) logf=$OPTARG ;;
	m) mem=$OPTARG ;;
	*) die "usage: vm-run.sh [-v test|bench] [-t SECONDS] [-l LOG] [-m MEM] -- COMMAND..." ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
(($#)) || die "no command given"

kdir=$("$RSISCSI_TOP/scripts/kernel-build.sh" "$variant")
moddir=$("$RSISCSI_TOP/scripts/module-build.sh" "$variant")
# The guest gets the project's userspace tools too (scripts/mkinitramfs.sh).
(cd "$RSISCSI_TOP" && quiet cargo build --release --locked -p rsiscsiadm -p rsiscsi-diag -p rsiscsi-faketarget)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$RSISCSI_TOP/scripts/mkinitramfs.sh" "$work/base.cpio" "$moddir"

# The command travels as a second cpio archive appended to the first.
mkdir -p "$work/cmd"
{
	echo '#!/bin/bash'
	printf '%q ' "$@"
	echo
} >"$work/cmd/rsiscsi-cmd"
chmod 0755 "$work/cmd/rsiscsi-cmd"
(cd "$work/cmd" && echo rsiscsi-cmd | cpio -o -H newc --quiet) >"$work/cmd.cpio"
cat "$work/base.cpio" "$work/cmd.cpio" >"$work/initrd.cpio"

accel=$("$RSISCSI_TOP/scripts/kvm-probe.sh" "$kdir/arch/x86/boot/bzImage")
[ -n "$logf" ] || logf=$work/console.log
: >"$logf"
log "booting $variant kernel ($accel), timeout ${timeout_s}s, console log $logf"

set +e
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
	-accel "$accel" -cpu max -smp 2 -m "$mem" -display none -no-reboot \
	-chardev stdio,mux=on,id=out -serial chardev:out -serial chardev:out \
	-kernel "$kdir/arch/x86/boot/bzImage" -initrd "$work/initrd.cpio" \
	-append "console=ttyS0 loglevel=4 panic=-1 oops=panic panic_on_warn=0 rdinit=/init" \
	</dev/null 2>&1 | stdbuf -oL tr -d '\r' | tee -a "$logf"
qrc=${PIPESTATUS[0]}
set -e

rc=$(sed -n 's/^RSISCSI-EXIT: \([0-9]\+\)$/\1/p' "$logf" | tail -n1)
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "vm-run: guest killed after ${timeout_s}s; console tail:" >&2
	tail -n 40 "$logf" >&2
	exit 124
fi
if [ -z "$rc" ]; then
	echo "vm-run: guest ended without an exit status (QEMU status $qrc); console tail:" >&2
	tail -n 40 "$logf" >&2
	exit 1
fi
exit "$rc"
