#!/usr/bin/env bash
# Set up everything osc_live needs on a fresh Debian machine: system packages for the real OSC
# peers and the browser tests (when run as root), and a virtualenv in .venv with the project.
#   bash scripts/setup.sh          # notebook + lab extras
#   bash scripts/setup.sh test     # plus the test extras and the system peers
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-lab}"

apt_packages=()
if [ "$what" = test ]; then
  command -v oscsend >/dev/null 2>&1 || apt_packages+=(liblo-tools)
  command -v scsynth >/dev/null 2>&1 || apt_packages+=(supercollider-server)
  command -v jackd >/dev/null 2>&1 || apt_packages+=(jackd2)
  [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
  command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${apt_packages[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root to install): ${apt_packages[*]}" >&2
  fi
fi

# PYTHON picks the interpreter, VENV the virtualenv (scripts/test-pythons.sh makes one per
# supported Python: .venv-py3.10, ...).
PY="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip
extra="lab"
[ "$what" = test ] && extra="dev"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$extra]"
if [ "$what" = test ]; then
  # The benchmarks' and the fuzz target's peers (aiosc, oscpy, osc4py3, atheris): not package
  # dependencies, but the test suite replays the fuzz corpus and runs a short atheris pass.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r benchmarks/requirements.txt
fi

# Older ipykernels for the browser tests' kernel matrix (tests/browser/kernels.txt): one venv each
# under .venv-kernels/ with only ipykernel, the main venv's ipywidgets and osc_live (editable, with
# the extras the notebooks use: websocket, discovery).  (Browser tests run once, on the main
# .venv: not for the other Pythons' venvs.)
if [ "$what" = test ] && [ "$VENV" = .venv ]; then
  widgets=$(.venv/bin/python -c 'import ipywidgets; print(ipywidgets.__version__)')
  for v in $(grep -v '^#' tests/browser/kernels.txt); do
    k=".venv-kernels/ipykernel-$v"
    [ -x "$k/bin/python" ] || "$PY" -m venv "$k"
    "$k/bin/python" -m pip install -q --disable-pip-version-check \
      "ipykernel==$v" "ipywidgets==$widgets" -e ".[notebook,websocket,discovery]"
  done
fi

# osc.js (npm "osc" + "ws") for the WebSocket interop and browser tests, as pinned by
# tests/js/package-lock.json (optional serialport left out: it builds native code).
if [ "$what" = test ] && [ "$VENV" = .venv ] && command -v npm >/dev/null 2>&1; then
  (cd tests/js && npm ci --omit=optional --no-audit --no-fund --loglevel=error >/dev/null)
fi
