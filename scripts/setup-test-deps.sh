#!/usr/bin/env bash
# Installs what the plugin tests need beyond cargo: a Python virtual environment (.venv) with
# pedalboard (hosts the VST3), numpy, pytest, and mido (the DAW test's MIDI import). Idempotent; safe to run on every CI start.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import pedalboard, numpy, pytest, mido" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet "pedalboard>=0.9.16,<0.10" "numpy>=1.26" "pytest>=8" "mido>=1.3,<2"
fi
.venv/bin/python -c "import pedalboard; print('pedalboard', pedalboard.__version__)"
