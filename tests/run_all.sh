#!/usr/bin/env bash
# Sets up .venv in this checkout (once), runs the static checks (ruff's lint
# and format, pyright's types), then the whole test suite, with the
# docstring examples and notebooks, on each Keras backend in turn. The
# notebooks execute in the tensorflow run only (their committed outputs are
# TensorFlow's; see tests/test_notebooks.py), so a BACKENDS without
# tensorflow checks them but does not execute them.
#   bash tests/run_all.sh                      # tensorflow, jax, torch, numpy
#   BACKENDS="jax numpy" bash tests/run_all.sh -x   # a subset; args go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
# torch first and pinned: 2.13.0 is the CPU build; an unpinned torch, asked
# for directly or by a dependency, pulls a multi-GB CUDA build.
.venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
# keras-hub, for the recipe tests on its backbones, without the tokenizer
# stack it requires: tensorflow-text would add the full tensorflow wheel
# beside tensorflow-cpu, and no test tokenizes. pip then reports the
# missing tensorflow-text (and kagglehub's newer kagglesdk) as conflicts.
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps \
  keras-hub==0.32.0 tokenizers==0.23.3 sentencepiece==0.2.3
.venv/bin/pip install --quiet --disable-pip-version-check regex rich \
  absl-py packaging kagglehub
export TF_CPP_MIN_LOG_LEVEL=2
status=0
echo "=== ruff check, ruff format --check, pyright ==="
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check . || status=1
.venv/bin/pyright || status=1
for backend in ${BACKENDS:-tensorflow jax torch numpy}; do
  echo "=== KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend .venv/bin/python -m pytest -q "$@" || status=1
done
echo "=== KERAS_BACKEND=jax on 8 simulated devices: tests/_internal/test_sharding.py ==="
XLA_FLAGS=--xla_force_host_platform_device_count=8 KERAS_BACKEND=jax \
  .venv/bin/python -m pytest -q tests/_internal/test_sharding.py || status=1
exit $status
