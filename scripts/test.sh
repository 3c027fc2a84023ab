#!/usr/bin/env bash
# Set up (Debian packages, .venv) and run the whole test suite: peers and browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export OSC_LIVE_REQUIRE_PEERS=1 OSC_LIVE_REQUIRE_BROWSER=1
exec .venv/bin/python -m pytest "$@"
