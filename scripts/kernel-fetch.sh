#!/usr/bin/env bash
# Fetches Debian's linux-source-7.3 (from trixie-backports, without touching the
# system's apt sources) and unpacks it under the cache. Prints the version got.
# Output: the path of the unpacked tree on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_dir=$RSISCSI_CACHE/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/sources.list.d" "$RSISCSI_CACHE/src"

# Reuse the mirror this machine is configured with; only the suite differs.
mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -v security | head -n1 || true)
if [ -z "$mirror" ]; then
	mirror=$(awk '$1=="deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || die "no Debian mirror found in the apt sources"

cat >"$apt_dir/sources.list.d/ksrc.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $RSISCSI_KSUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
aptopts=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
	-o "Dir::State::lists=$apt_dir/lists" -o "Dir::Cache::archives=$apt_dir"
	-o "APT::Get::List-Cleanup=0")

# A day-old index is fine; a stale one names a .deb the mirror no longer has.
if [ -z "$(find "$apt_dir/lists" -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
	quiet apt-get "${aptopts[@]}" update
fi
version=$(apt-cache "${aptopts[@]}" policy "$RSISCSI_KPKG" | sed -n 's/^ *Candidate: //p')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
	die "$RSISCSI_KPKG not found in $RSISCSI_KSUITE"
fi

tree=$RSISCSI_CACHE/src/$RSISCSI_KPKG-$version
if [ ! -f "$tree/.rsiscsi-unpacked" ]; then
	log "fetching $RSISCSI_KPKG $version"
	work=$(mktemp -d "$RSISCSI_CACHE/src/tmp.XXXXXX")
	(cd "$work" && quiet apt-get "${aptopts[@]}" download "$RSISCSI_KPKG=$version")
	dpkg-deb -x "$work"/*.deb "$work/deb"
	tarball=$(find "$work/deb/usr/src" -name 'linux-source-*.tar.*' | head -n1)
	[ -n "$tarball" ] || die "no tarball in the $RSISCSI_KPKG package"
	mkdir -p "$work/x"
	tar -xf "$tarball" -C "$work/x"
	rm -rf "$tree"
	mv "$work/x"/linux-source-* "$tree"
	rm -rf "$work"
	touch "$tree/.rsiscsi-unpacked"
fi
log "kernel source: $RSISCSI_KPKG $version"
echo "$tree"
