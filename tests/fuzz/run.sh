#!/usr/bin/env bash
# A short coverage-guided fuzz pass (atheris) of the parser and framers from the committed
# corpus: bash tests/fuzz/run.sh [SECONDS]   (default 30; needs benchmarks/requirements.txt).
# New inputs go to a temporary directory; a crash leaves crash-* in the current directory and
# makes this script fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-30}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
.venv/bin/python tests/fuzz/fuzz_codec.py -max_total_time="$seconds" -max_len=2048 \
  -print_final_stats=1 "$work" tests/fuzz/corpus
