"""Tests of the command line (`python -m keras_inits`) and of the numbers
of the comparison experiment behind `compare`."""

import csv
import os
import subprocess
import sys

import keras
import pytest

from keras_inits import comparison


def run_cli(*arguments, backend=None):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if backend:
        environment["KERAS_BACKEND"] = backend
    return subprocess.run([sys.executable, "-m", "keras_inits", *arguments],
                          capture_output=True, text=True, env=environment,
                          timeout=300)


def test_unknown_initializer_exits_2_and_lists_valid_names():
    result = run_cli("compare", "--initializers", "Zeros,HeNormall")
    assert result.returncode == 2
    assert "HeNormall" in result.stderr
    assert "Did you mean 'keras_inits>HeNormal'" in result.stderr
    assert "GlorotUniform" in result.stderr  # the valid names are listed


def test_compare_on_a_backend_without_fit_exits_2_and_names_the_others():
    result = run_cli("compare", "--backend", "numpy")
    assert result.returncode == 2
    assert "numpy backend cannot train" in result.stderr
    assert "tensorflow, jax, torch" in result.stderr


def test_bad_flag_value_exits_2():
    result = run_cli("compare", "--epochs", "0")
    assert result.returncode == 2
    assert "--epochs" in result.stderr


def test_backend_flag_sets_the_backend_before_keras_loads():
    other = "numpy" if keras.backend.backend() != "numpy" else "jax"
    result = run_cli("list", "--backend", other)
    assert result.returncode == 0, result.stderr
    assert f"Keras backend: {other}" in result.stdout
    assert "HeNormal" in result.stdout and "KaimingNormal" in result.stdout


def test_recommend_prints_the_recommendation():
    result = run_cli("recommend", "relu")
    assert result.returncode == 0, result.stderr
    assert "He" in result.stdout
    result = run_cli("recommend", "softsign2")
    assert result.returncode == 2
    assert "relu" in result.stderr  # the valid names are listed


@pytest.mark.skipif(keras.backend.backend() not in
                    comparison.TRAINABLE_BACKENDS,
                    reason="the backend has no fit")
def test_compare_numbers_and_their_reproducibility(tmp_path):
    # A short run (4 ReLU layers, 6 epochs) keeps the test fast and still
    # separates the two: Zeros gives every unit of a layer the same gradient,
    # so it stays at chance on 10 balanced classes (~0.1), while He reaches
    # well above 0.5 in a few epochs on the digits.
    kwargs = dict(initializers="Zeros,HeUniform", epochs=6, depth=4, seed=3,
                  progress=False)
    runs = comparison.compare(output=str(tmp_path / "a"), **kwargs)
    zeros, he = runs
    assert zeros.val_accuracy[-1] < 0.2
    assert he.val_accuracy[-1] > zeros.val_accuracy[-1] + 0.4
    again = comparison.compare(output=str(tmp_path / "b"), **kwargs)
    assert [r.val_accuracy for r in again] == [r.val_accuracy for r in runs]
    assert [r.val_loss for r in again] == [r.val_loss for r in runs]
    for name in ("report.md", "report.csv", "curves.png",
                 "signal_propagation.png", "weights_at_init.png"):
        assert os.path.getsize(tmp_path / "a" / name) > 0
    with open(tmp_path / "a" / "report.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
