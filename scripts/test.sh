#!/usr/bin/env bash
# Set up (Debian packages, .venv) and run the whole test suite: peers and browser tests included.
# In CI (CI=true) the non-browser suite first runs on every other supported Python too
# (scripts/test-pythons.sh: 3.10, 3.12, 3.13; OSC_LIVE_PYTHONS overrides the list, "" skips).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export OSC_LIVE_REQUIRE_PEERS=1 OSC_LIVE_REQUIRE_BROWSER=1
others=0
if [ "${CI:-}" = true ] && [ "${OSC_LIVE_PYTHONS-unset}" != "" ]; then
  bash scripts/test-pythons.sh || others=$?
fi
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$others" -ne 0 ]; then
  echo "test.sh: the suite FAILED on another supported Python (see scripts/test-pythons.sh above)" >&2
  [ "$status" -ne 0 ] || status=$others
fi
exit "$status"
