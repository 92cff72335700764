#!/bin/bash
# Two connections on two paths at login (MC/S): the session lists CIDs 0 and
# 1, each on its own path and source address; LIO's ACL info shows both CIDs
# in one session; fio verify passes and each connection carried commands.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

mcs_setup 2
mcs_login 2
log "disk: $RS_DEV"

[ "$(conn_cids | tr '\n' ' ')" = "0 1 " ] || fail "session CIDs: $(conn_cids | tr '\n' ' ')"
for c in 0 1; do
	l=$(stat_line conn "$c")
	log "$l"
	[ "$(field "$l" state)" = FULL_FEATURE ] || fail "connection $c not in full feature phase"
	[ "$(field "$l" portal)" = "$(tgt_ip "$c"):3260" ] || fail "connection $c portal: $l"
	case $(field "$l" local) in
	"$(init_ip "$c")":*) ;;
	*) fail "connection $c does not come from $(init_ip "$c"): $l" ;;
	esac
done
info=$(lio_info "$RS_IQN")
log "LIO: $(grep -c 'LIO Session ID' <<<"$info") session(s), CIDs $(lio_cids | tr '\n' ' ')"
[ "$(grep -c 'LIO Session ID' <<<"$info")" = 1 ] || fail "LIO shows more than one session: $info"
[ "$(lio_cids | sort | tr '\n' ' ')" = "0 1 " ] || fail "LIO does not list CIDs 0 and 1: $info"

before=$(snap 0 1)
# The scan's CHECK CONDITIONs (unsupported mode pages) count as errors.
errors=$(sess_stat errors)
fio_verify "$RS_DEV" --bs=4k --iodepth=16 --size=16m || fail "fio verify failed"
for c in 0 1; do
	d=$(delta "$before" "$c")
	log "connection $c carried $d commands"
	((d > 0)) || fail "connection $c carried no command"
done
[ "$(sess_stat errors)" = "$errors" ] || fail "errors during fio: $(stat_line session)"
rs_logout
wait_for 10 rs_no_disk || fail "disk still present after logout"
