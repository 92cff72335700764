#!/usr/bin/env bash
# `make bench`: rsiscsi against open-iscsi (iscsi_tcp) on the same LIO target
# and path, then MC/S against dm-multipath over several rate-limited paths,
# in the same boot of the bench kernel (no debug options). Under TCG absolute
# figures mean nothing; the ratios do. Not a test: it asserts nothing.
# BENCH_RUNTIME=N sets fio's seconds per point (default 8).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$RSISCSI_TOP/scripts/setup.sh"
out=$RSISCSI_TOP/build/bench
mkdir -p "$out"
"$RSISCSI_TOP/scripts/vm-run.sh" -v bench -t 1800 -m 3G -l "$out/console.log" -- \
	env BENCH_RUNTIME="${BENCH_RUNTIME:-8}" BENCH_MCS="${BENCH_MCS:-1}" BENCH_STALL="${BENCH_STALL:-1}" ./bench.sh |
	tee "$out/guest.log" | grep -E '^(BENCH|MCS|STALL|# )' || true

awk '$1 == "BENCH" {
	k = $3; who = $2
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	iops[who, k] += $4; mbs[who, k] += $5; cpu[who, k] += $6; runs[who, k]++
	each[who, k] = each[who, k] " " $4
}
END {
	if (n == 0) { print "no results: see build/bench/console.log"; exit 1 }
	printf "\n%-18s %21s %21s %7s %21s %7s %23s %7s\n", "workload", "IOPS open-iscsi", "IOPS rsiscsi", "ratio",
		"MB/s open-iscsi", "ratio", "CPU us/IO oi / rs", "ratio"
	for (i = 1; i <= n; i++) {
		k = order[i]
		oi = "open-iscsi"; rs = "rsiscsi"
		if (!runs[oi, k] || !runs[rs, k]) continue
		io = iops[oi, k] / runs[oi, k]; ir = iops[rs, k] / runs[rs, k]
		mo = mbs[oi, k] / runs[oi, k]; mr = mbs[rs, k] / runs[rs, k]
		co = cpu[oi, k] / runs[oi, k]; cr = cpu[rs, k] / runs[rs, k]
		printf "%-18s %21.0f %21.0f %6.2fx %10.1f / %-8.1f %6.2fx %11.1f / %-9.1f %6.2fx\n", k, io, ir, ir / io, mo, mr, mr / mo, co, cr, co / cr
	}
	print "\nIOPS of each run (the spread shows the noise of the shared machine):"
	for (i = 1; i <= n; i++) {
		k = order[i]
		printf "  %-18s open-iscsi:%s   rsiscsi:%s\n", k, each["open-iscsi", k], each["rsiscsi", k]
	}
	print "\nratios: rsiscsi / open-iscsi for IOPS and MB/s (higher is better); open-iscsi / rsiscsi for CPU per I/O (higher is better)."
}' "$out/guest.log" | tee "$out/table.txt"

# MC/S: each case against its physical limit (the sum of the tbf rates) and
# the best dm-multipath selector of the same case.
awk '$1 == "MCS" {
	c = $2; who = $3
	if (!(c in seen)) { seen[c] = 1; order[++n] = c }
	mb[c, who] = $4; lim[c] = $5; iops[c, who] = $6; list[c] = list[c] " " who
	if (who ~ /^dm-multipath/ && $4 > best[c]) best[c] = $4
}
END {
	if (n == 0) exit 0
	printf "\nMC/S (MB = 10^6 bytes; limit = sum of the paths tbf rates)\n"
	printf "%-22s %-36s %9s %9s %8s %10s %9s\n", "case", "initiator-policy", "MB/s", "limit", "of limit", "vs best dm", "IOPS"
	for (i = 1; i <= n; i++) {
		c = order[i]; k = split(list[c], w, " ")
		for (j = 1; j <= k; j++) {
			x = w[j]
			pct = lim[c] != "-" ? sprintf("%7.1f%%", 100 * mb[c, x] / lim[c]) : "       -"
			vs = best[c] > 0 ? sprintf("%9.2fx", mb[c, x] / best[c]) : "        -"
			printf "%-22s %-36s %9.2f %9s %s %s %9.0f\n", c, x, mb[c, x], lim[c], pct, vs, iops[c, x]
		}
	}
}' "$out/guest.log" | tee -a "$out/table.txt"

# Failover stall: the longest gap between completed I/Os across a silent
# path cut, and a plot of throughput over time for every side.
awk '$1 == "STALL" {
	if (!n++) printf "\nFailover stall (path 1 of 2 silently cut at %d s, back at its end; 4k random reads, QD 8;\nLIO DefaultTime2Wait 0 unless named)\n%-34s %12s %10s\n", $4, "initiator", "stall (s)", "cut (s)"
	printf "%-34s %12.2f %5d-%-4d\n", $2, $3 / 1000, $4, $5
	split($2, p, "-"); side = p[1]; timers = $2; sub(/^[a-z]+(-multipath)?-/, "", timers)
	if (side == "rsiscsi") rs[timers] = $3; else dm[timers] = $3
}
END {
	if (!n) exit 0
	for (t in rs) if (t in dm && dm[t] > 0) printf "stall ratio rsiscsi / dm-multipath, %s timers: %.3f\n", t, rs[t] / dm[t]
}' "$out/guest.log" | tee -a "$out/table.txt"
if grep -q '^TPUT ' "$out/guest.log" && command -v gnuplot >/dev/null; then
	plot=()
	for who in $(awk '$1 == "TPUT" { print $2 }' "$out/guest.log" | uniq); do
		awk -v w="$who" '$1 == "TPUT" && $2 == w { print $3, $4 }' "$out/guest.log" >"$out/tput-$who.dat"
		plot+=("'$out/tput-$who.dat' using 1:2 with lines title '$who'")
	done
	cut=$(awk '$1 == "STALL" { print $4; exit }' "$out/guest.log")
	gnuplot <<-EOF
		set terminal pngcairo size 1000,500 noenhanced
		set output '$out/failover.png'
		set title 'Throughput across a silent cut of path 1 of 2 at ${cut} s (4k random reads, QD 8)'
		set xlabel 'seconds since fio started'
		set ylabel 'MB/s (per 0.5 s)'
		set xrange [0:60]
		set arrow from ${cut}, graph 0 to ${cut}, graph 1 nohead dashtype 2
		plot $(IFS=,; echo "${plot[*]}")
	EOF
	echo "plot: $out/failover.png (x axis cut at 60 s; the dm-multipath-default run lasts 164 s)"
fi
