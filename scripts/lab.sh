#!/usr/bin/env bash
# Set up .venv and open JupyterLab on the quickstart notebook. The notebook starts osc_live's
# embedded virtual synth, so no external OSC program is needed. The URL JupyterLab prints
# opens notebooks/01-quickstart.ipynb (not the Launcher). Extra arguments go to JupyterLab
# (e.g. --no-browser, --port 8899).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh lab
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)   # containers and CI machines often run as root
exec .venv/bin/jupyter lab --ServerApp.ip=127.0.0.1 \
  --LabApp.default_url=/lab/tree/notebooks/01-quickstart.ipynb "${extra[@]}" "$@"
