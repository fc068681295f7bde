#!/usr/bin/env bash
# Create .venv and install the project with its development tools; re-run only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.feedbackbot-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing Feedbackbot and its dependencies into .venv (first run takes a few minutes)..."
  # torch is pinned to the CPU build (2.13.0); any other spec would pull several GB of CUDA packages.
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet "torch==2.13.0"
  .venv/bin/pip install --quiet -e '.[dev]'
  echo "$want" > "$stamp"
fi
