#!/usr/bin/env bash
# Run the non-browser test suite on every other supported Python (requires-python >= 3.10):
# each gets its own virtualenv (.venv-pyX.Y, made by scripts/setup.sh) next to the main .venv;
# after the set-ups, the suites run side by side (each prints its log when it ends).
# scripts/test.sh calls this in CI (CI=true); the browser tests run once, on the main .venv.
#
#   bash scripts/test-pythons.sh                 # 3.10, 3.12, 3.13 (found on PATH or in pyenv)
#   OSC_LIVE_PYTHONS="3.10 3.13" bash scripts/test-pythons.sh
#   OSC_LIVE_PYTHONS="/usr/bin/python3.12" bash scripts/test-pythons.sh
#
# A version that cannot be found fails the run in CI (CI=true) and is skipped with a note
# elsewhere.  Extra pytest arguments are passed on.  The whole suite runs, with shorter
# CPU-bound passes than on the main interpreter (they test the code, not the interpreter):
# fuzz cases OSC_LIVE_FUZZ_CASES_OTHER (2,000), soak OSC_LIVE_SOAK_SECONDS_OTHER (1 s).
set -uo pipefail
cd "$(dirname "$0")/.."
export OSC_LIVE_FUZZ_CASES="${OSC_LIVE_FUZZ_CASES_OTHER:-2000}"
export OSC_LIVE_SOAK_SECONDS="${OSC_LIVE_SOAK_SECONDS_OTHER:-1}"

wanted="${OSC_LIVE_PYTHONS:-3.10 3.12 3.13}"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"

runs() {  # the interpreter "$1" works (a pyenv shim of an inactive version does not)
  "$1" -c 'import sys' >/dev/null 2>&1
}

find_python() {
  local want="$1" candidate
  if [ -x "$want" ] && runs "$want"; then
    echo "$want"
    return 0
  fi
  # pyenv: the newest installed patch release of that minor version
  for candidate in $(ls -d "$pyenv_root"/versions/"$want".* 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/bin/python" ] && runs "$candidate/bin/python"; then
      echo "$candidate/bin/python"
      return 0
    fi
  done
  candidate="$(command -v "python$want" 2>/dev/null)" || return 1
  runs "$candidate" || return 1
  echo "$candidate"
}

failed=()
runs_started=()   # "version pid log" of the suites running in the background
for want in $wanted; do
  if ! py="$(find_python "$want")"; then
    if [ "${CI:-}" = true ]; then
      echo "test-pythons: Python $want not found (PATH, $pyenv_root/versions)" >&2
      failed+=("$want (not found)")
    else
      echo "test-pythons: Python $want not found; skipped" >&2
    fi
    continue
  fi
  version="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  venv=".venv-py$version"
  echo "=== Python $version ($py): setting up $venv ===" >&2
  if ! PYTHON="$py" VENV="$venv" bash scripts/setup.sh test >&2; then
    failed+=("$version (setup)")
    continue
  fi
  skip=()
  if ! "$venv/bin/python" -c 'import atheris' >/dev/null 2>&1; then
    # No atheris wheel for this Python: the coverage-guided pass runs on the main one.
    skip+=(--deselect tests/test_fuzz_corpus.py::test_a_short_coverage_guided_pass_finds_nothing)
  fi
  # The suites mostly wait (kernels, peers, timeouts: ~30 % of one core each), so the
  # interpreters run side by side; every test binds port 0 and names its resources uniquely.
  log="$(mktemp "${TMPDIR:-/tmp}/osc-live-py$version.XXXXXX.log")"
  "$venv/bin/python" -m pytest -m "not browser" -q -p no:cacheprovider "${skip[@]}" "$@" \
    >"$log" 2>&1 </dev/null &
  runs_started+=("$version $! $log")
  echo "=== Python $version: non-browser suite started (log $log) ===" >&2
done

for run in "${runs_started[@]+"${runs_started[@]}"}"; do
  read -r version pid log <<<"$run"
  if wait "$pid"; then result=passed; else result=FAILED; failed+=("$version"); fi
  echo "=== Python $version: $result (log below) ===" >&2
  if [ "$result" = passed ]; then tail -n 3 "$log" >&2; else cat "$log" >&2; fi
  rm -f "$log"
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test-pythons: FAILED on Python ${failed[*]}" >&2
  exit 1
fi
