#!/usr/bin/env bash
# `make demo`: build everything, boot the test guest and run tests/demo.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$RSISCSI_TOP/scripts/setup.sh"
exec "$RSISCSI_TOP/scripts/vm-run.sh" -v test -t 900 -- ./demo.sh
