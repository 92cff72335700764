# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Common settings for rsiscsi's scripts. Sourced, never run.

RSISCSI_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Kernel sources and builds live outside git, keyed by version + config.
RSISCSI_CACHE=${RSISCSI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rsiscsi}
# The Debian package we build against; its point release moves.
RSISCSI_KPKG=${RSISCSI_KPKG:-linux-source-7.3}
RSISCSI_KSUITE=${RSISCSI_KSUITE:-trixie-backports}
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command quietly, printing its output only when it fails.
quiet() {
	local out
	out=$(mktemp)
	if ! "$@" >"$out" 2>&1; then
		tail -n 60 "$out" >&2
		rm -f "$out"
		return 1
	fi
	rm -f "$out"
}
