#!/bin/bash
# Guest side of `make demo`: what rsiscsi does today, step by step.
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

step() { printf '\n=== %s\n' "$*"; }
names() { for d in "$@"; do printf '%s ' "${d##*/}"; done; }

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
printf '  portals:            %s\n' "$(names "$TPG"/np/*)"
printf '  LUN 0:              %s\n' "$(readlink "$TPG/lun/lun_0/lun0")"
printf '  ACLs:               %s\n' "$(names "$TPG"/acls/*)"

step "Loading rsiscsi.ko"
dmesg -c >/dev/null
insmod /lib/rsiscsi/rsiscsi.ko || exit 1
dmesg | grep rsiscsi | sed 's/^/  /'

step "rsiscsiadm login: one session, a connection on each path (MC/S), round-robin"
rsiscsiadm watch >/tmp/events.log 2>&1 &
watcher=$!
# Pings every second, a connection silent for 2 s after one is dead.
mcs_login 2 --policy round-robin --param NopInterval=1 --param NopTimeout=2
rsiscsiadm list
rsiscsiadm list -P 1 | sed 's/^/  /'

step "The disk: $RS_DEV"
lsblk -o NAME,SIZE,VENDOR,MODEL,TRAN "$RS_DEV" | sed 's/^/  /'
step "LIO's view of the session (acls/$RS_IQN/info)"
lio_info "$RS_IQN" | sed 's/^/  /'

step "ext4 on it: mkfs, write, remount, read back"
mkfs.ext4 -q "$RS_DEV" && mkdir -p /mnt/demo && mount "$RS_DEV" /mnt/demo || exit 1
dd if=/dev/urandom of=/mnt/demo/data bs=1M count=8 status=none
sum1=$(sha256sum /mnt/demo/data | cut -d' ' -f1)
umount /mnt/demo && mount "$RS_DEV" /mnt/demo || exit 1
sum2=$(sha256sum /mnt/demo/data | cut -d' ' -f1)
echo "  written $sum1"
echo "  read    $sum2"
[ "$sum1" = "$sum2" ] && echo "  match" || echo "  MISMATCH"
umount /mnt/demo

step "fio: 4k random writes, QD 16, crc32c verified, spread over both connections"
rsiscsiadm stats --sid "$RS_SID" | sed 's/^/  before: /'
if fio_verify "$RS_DEV" --size=8m; then echo "  verified"; else echo "  FAILED"; fi
rsiscsiadm stats --sid "$RS_SID" | sed 's/^/  after:  /'

step "Policies under I/O: weighted-paths puts everything on the lowest weight"
rsiscsiadm conn-set --sid "$RS_SID" --cid 1 --weight 0 | sed 's/^/  /'
rsiscsiadm policy --sid "$RS_SID" --policy weighted-paths | sed 's/^/  /'
before=$(snap 0 1)
fio_verify "$RS_DEV" --size=4m >/dev/null || echo "  FAILED"
echo "  commands since: connection 0 $(delta "$before" 0), connection 1 $(delta "$before" 1)"
rsiscsiadm policy --sid "$RS_SID" --policy round-robin | sed 's/^/  /'

step "A third connection? Add it at runtime on path 0, use it, remove it"
net_out=$(rsiscsiadm conn-add --sid "$RS_SID" --portal "$(tgt_ip 0)" 2>&1)
echo "  $net_out"
cid=$(sed -n 's/^Added connection \([0-9]*\) .*/\1/p' <<<"$net_out")
fio_verify "$RS_DEV" --size=4m >/dev/null && echo "  verified with three connections"
rsiscsiadm stats --sid "$RS_SID" | sed 's/^/  /'
[ -n "$cid" ] && rsiscsiadm conn-remove --sid "$RS_SID" --cid "$cid" | sed 's/^/  /'

step "Failover (ERL 2): path 1 goes silent under fio verify; the session carries on over path 0"
fio_loop_start "$RS_DEV"
sleep 3
path_down 1
echo "  $(date +%T) path 1 cut (link down: no RST, no FIN)"
wait_recovered 1 >/dev/null
dmesg | grep -E "session $RS_SID:? connection 1 (failed|recovered)" | sed 's/^\[[^]]*\] /  /'
before=$(snap 0)
sleep 3
echo "  $(date +%T) I/O goes on: connection 0 completed $(delta "$before" 0) commands in 3 s with path 1 down"
path_up 1
echo "  $(date +%T) path 1 back"
wait_reinstated 1
dmesg | grep "session $RS_SID: connection 1 reinstated" | tail -n 1 | sed 's/^\[[^]]*\] /  /'
before=$(snap 1)
sleep 3
echo "  $(date +%T) connection 1 carries I/O again: $(delta "$before" 1) commands in 3 s"
fio_loop_stop
echo "  LIO still has one session: $(lio_info "$RS_IQN" | grep -c 'LIO Session ID') (no reinstatement)"

step "Session recovery: the target's portal group restarts under us"
tpg_restart 2
wait_for 30 rsiscsiadm list >/dev/null
if fio_verify "$RS_DEV" --size=4m; then echo "  I/O after recovery verified"; else echo "  FAILED"; fi

step "Logout and events seen by 'rsiscsiadm watch'"
rs_logout
sleep 1
kill "$watcher" 2>/dev/null
sed 's/^/  /' /tmp/events.log
rmmod rsiscsi && echo "  module unloaded"
cleanup_all
step "done"
