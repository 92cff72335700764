#!/usr/bin/env bash
# Builds the guest kernel of a variant (test: debug options on; bench: off) and
# prints its build directory. Builds are cached outside git under a key made of
# the kernel version, the config fragments and the toolchain, so a warm run
# rebuilds nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=${1:-test}
# Both kernels carry the test bed's fixes to LIO, the target (scripts/patches,
# Documentation/testbed.rst); rsiscsi itself needs none of them.
case $variant in
test) frags=(base.config debug.config) ;;
bench) frags=(base.config bench.config) ;;
*) die "unknown kernel variant '$variant' (test or bench)" ;;
esac
patches=()
for p in "$RSISCSI_TOP"/scripts/patches/*.patch; do [ -e "$p" ] && patches+=("$p"); done

tree=$("$RSISCSI_TOP/scripts/kernel-fetch.sh")
version=${tree##*/}
if ((${#patches[@]})); then
	# A patched copy beside the pristine tree: hard links for every file,
	# real copies for the files the patches touch.
	phash=$(cat "${patches[@]}" | sha256sum | cut -c1-12)
	ptree=$RSISCSI_CACHE/src/$version-patched-$phash
	if [ ! -f "$ptree/.rsiscsi-patched" ]; then
		log "applying ${#patches[@]} test bed patch(es) to a copy of $version"
		rm -rf "$ptree.tmp"
		cp -al "$tree" "$ptree.tmp"
		for p in "${patches[@]}"; do
			sed -n 's#^+++ b/##p' "$p" | while IFS= read -r f; do
				cp --remove-destination "$tree/$f" "$ptree.tmp/$f"
			done
			patch -d "$ptree.tmp" -p1 -s --no-backup-if-mismatch <"$p" ||
				die "patch ${p##*/} does not apply to $version"
		done
		touch "$ptree.tmp/.rsiscsi-patched"
		rm -rf "$ptree"
		mv "$ptree.tmp" "$ptree"
	fi
	tree=$ptree
fi
cfgdir=$RSISCSI_TOP/scripts/config
key=$({
	echo "$version"
	for f in "${frags[@]}"; do cat "$cfgdir/$f"; done
	((${#patches[@]} == 0)) || cat "${patches[@]}"
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
