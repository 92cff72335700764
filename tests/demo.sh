#!/bin/bash
# Guest side of `make demo`: what rsiscsi does today, step by step.
. "$(dirname "$0")/lib/lib.sh"

step() { printf '\n=== %s\n' "$*"; }

step "Kernel $(uname -r), $(nproc) CPUs"
step "Target network namespace '$TGT_NS' reached over two paths"
net_setup 2
ip -br addr show | grep -E '^i[0-9]'
ip -n "$TGT_NS" -br addr show | grep -E '^t[0-9]'

step "LIO target $TARGET_IQN: one TPG, a portal on each path, MC/S and ERL 2 enabled"
lio_setup
for f in MaxConnections ErrorRecoveryLevel; do
	printf '  %-20s %s\n' "$f" "$(cat "$TPG/param/$f")"
done
printf '  %-20s %s\n' "attrib/default_erl" "$(cat "$TPG/attrib/default_erl")"
names() { for d in "$@"; do printf '%s ' "${d##*/}"; done; }
printf '  portals:            %s\n' "$(names "$TPG"/np/*)"
printf '  LUN 0:              %s\n' "$(readlink "$TPG/lun/lun_0/lun0")"
printf '  ACLs:               %s\n' "$(names "$TPG"/acls/*)"
tns ss -ltn | grep 3260 | sed 's/^/  /'

step "Loading rsiscsi.ko"
dmesg -c >/dev/null
insmod /lib/rsiscsi/rsiscsi.ko || exit 1
dmesg | grep rsiscsi | sed 's/^/  /'
grep '^rsiscsi ' /proc/modules | sed 's/^/  /'

step "Unloading rsiscsi.ko"
rmmod rsiscsi || exit 1
dmesg | grep rsiscsi | tail -n1 | sed 's/^/  /'
cleanup_all
step "done"
