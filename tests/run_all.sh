#!/usr/bin/env bash
# Sets up .venv in this checkout (once), runs the static checks (ruff's lint
# and format, pyright's types), then the test suite on each Keras backend in
# turn, with the docstring examples and notebooks, on 2 pytest-xdist
# workers. TensorFlow runs every test; JAX, PyTorch and NumPy run
# `-m "not e2e or smoke"`: the end-to-end tests (marked `e2e`: child
# processes, notebooks, the command line, experiments, keras-hub builds)
# run once, on TensorFlow, and their `smoke` subset on every backend. A
# test that says something about one backend is not `e2e` and runs on each
# (pyproject.toml's markers; the notebooks execute on TensorFlow only,
# whose outputs are the committed ones, see tests/test_notebooks.py).
#   bash tests/run_all.sh                      # tensorflow, jax, torch, numpy
#   BACKENDS="jax numpy" bash tests/run_all.sh -x   # a subset; args go to pytest
#   FULL=1 bash tests/run_all.sh               # every test on every backend
#   bash tests/run_all.sh -m e2e               # a -m of yours replaces ours
#   JOBS=1 bash tests/run_all.sh               # without xdist workers
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
# torch first and pinned: 2.13.0 is the CPU build; an unpinned torch, asked
# for directly or by a dependency, pulls a multi-GB CUDA build.
.venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
# A .venv made before 0.1.0 holds tensorflow-cpu, which shares its package
# folder with the full tensorflow wheel that `[tensorflow]` now installs:
# removing either deletes the other's files, so both go before reinstalling.
if .venv/bin/pip show --quiet tensorflow-cpu 2>/dev/null; then
  .venv/bin/pip uninstall --quiet -y tensorflow-cpu tensorflow
fi
# keras-hub pinned: docs/recipes.md's coverage table is keras-hub 0.32's.
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]" \
  keras-hub==0.32.0
export TF_CPP_MIN_LOG_LEVEL=2
status=0
echo "=== ruff check, ruff format --check, pyright ==="
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check . || status=1
.venv/bin/pyright || status=1
# xdist: --dist loadfile keeps a module's tests in one worker, so a
# module-scoped fixture (a compare run, a built backbone) is made once.
workers=(-n "${JOBS:-2}" --dist loadfile)
[ "${JOBS:-2}" = 1 ] && workers=()
durations=()
for backend in ${BACKENDS:-tensorflow jax torch numpy}; do
  selection=(-m "not e2e or smoke")
  if [ "$backend" = tensorflow ] || [ "${FULL:-0}" = 1 ]; then
    selection=()
  fi
  echo "=== KERAS_BACKEND=$backend ${selection[*]:-(every test)} ==="
  start=$SECONDS
  result=""
  KERAS_BACKEND=$backend .venv/bin/python -m pytest -q "${workers[@]}" \
    "${selection[@]}" "$@" || { status=1; result=", failed"; }
  durations+=("KERAS_BACKEND=$backend: $((SECONDS - start)) s$result")
done
echo "=== KERAS_BACKEND=jax on 8 simulated devices: tests/_internal/test_sharding.py ==="
start=$SECONDS
result=""
XLA_FLAGS=--xla_force_host_platform_device_count=8 KERAS_BACKEND=jax \
  .venv/bin/python -m pytest -q tests/_internal/test_sharding.py ||
  { status=1; result=", failed"; }
durations+=("jax on 8 devices, test_sharding.py: $((SECONDS - start)) s$result")
echo "=== pytest's duration per run ==="
printf '%s\n' "${durations[@]}"
exit $status
