#!/usr/bin/env bash
# Builds the guest kernel of a variant (test: debug options on; bench: off) and
# prints its build directory. Builds are cached outside git under a key made of
# the kernel version, the config fragments and the toolchain, so a warm run
# rebuilds nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=${1:-test}
case $variant in
test) frags=(base.config debug.config) ;;
bench) frags=(base.config bench.config) ;;
*) die "unknown kernel variant '$variant' (test or bench)" ;;
esac

tree=$("$RSISCSI_TOP/scripts/kernel-fetch.sh")
version=${tree##*/}
cfgdir=$RSISCSI_TOP/scripts/config
key=$({
	echo "$version"
	for f in "${frags[@]}"; do cat "$cfgdir/$f"; done
	gcc --version | head -n1
	rustc --version
	bindgen --version
	cat "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-12)
out=$RSISCSI_CACHE/build/$version-$variant-$key
mkdir -p "$out"

exec 9>"$out/.lock"
flock 9
if [ ! -f "$out/.rsiscsi-built" ]; then
	log "building the $variant kernel ($version) in $out"
	start=$SECONDS
	kmake=(make -C "$tree" O="$out" -j"$(($(nproc) + 1))")
	quiet "${kmake[@]}" tinyconfig
	paths=()
	for f in "${frags[@]}"; do paths+=("$cfgdir/$f"); done
	quiet "$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${paths[@]}"
	quiet "${kmake[@]}" olddefconfig
	# An option that did not stick means a missing dependency: fail now, not in a test.
	bad=$(cat "${paths[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=' | while IFS= read -r line; do
		opt=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$out/.config" && echo "$line"
		else
			grep -qx "$line" "$out/.config" || echo "$line"
		fi
	done || true)
	[ -z "$bad" ] || die "kernel options that did not stick (missing dependency?):"$'\n'"$bad"
	quiet "${kmake[@]}" bzImage modules
	touch "$out/.rsiscsi-built"
	log "$variant kernel built in $((SECONDS - start)) s"
fi
echo "$out"
