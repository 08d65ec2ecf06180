"""Tests of the command line (`python -m keras_inits`) and of the numbers
of the comparison experiment behind `compare`."""

import csv
import math
import os
import subprocess
import sys

import keras
import pytest

from keras_inits import comparison


def run_cli(*arguments, backend=None):
    """Runs `python -m keras_inits` as a program, in a new process."""
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if backend:
        environment["KERAS_BACKEND"] = backend
    return subprocess.run([sys.executable, "-m", "keras_inits", *arguments],
                          capture_output=True, text=True, env=environment,
                          timeout=300)


def run_main_output(capsys, *arguments):
    """Runs the command line in this process (argument parsing needs no
    new one): (exit status, stdout, stderr)."""
    from keras_inits.cli import main

    try:
        status = main(list(arguments))
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_main(capsys, *arguments):
    """Runs the command line in this process: (exit status, stderr)."""
    status, _, err = run_main_output(capsys, *arguments)
    return status, err


def test_unknown_initializer_exits_2_and_lists_valid_names(capsys):
    status, err = run_main(capsys, "compare", "--initializers",
                           "Zeros,HeNormall")
    assert status == 2
    assert "HeNormall" in err
    assert "Did you mean 'keras_inits>HeNormal'" in err
    assert "GlorotUniform" in err  # the valid names are listed


@pytest.mark.skipif(keras.backend.backend() != "numpy",
                    reason="runs in this process, whose Keras cannot switch "
                    "to the numpy backend; the numpy run of the suite has it")
def test_compare_on_a_backend_without_fit_exits_2_and_names_the_others(
        capsys):
    status, err = run_main(capsys, "compare", "--backend", "numpy")
    assert status == 2
    assert "numpy backend cannot train" in err
    assert "tensorflow, jax, torch" in err


def test_bad_flag_value_exits_2(capsys):
    status, err = run_main(capsys, "compare", "--epochs", "0")
    assert status == 2
    assert "--epochs" in err


def test_backend_flag_sets_the_backend_before_keras_loads():
    # In a new process: `python -m keras_inits` runs as a program, and
    # `--backend` re-runs it on a backend other than the one it started on.
    other = "numpy" if keras.backend.backend() != "numpy" else "jax"
    result = run_cli("list", "--backend", other)
    assert result.returncode == 0, result.stderr
    assert f"Keras backend: {other}" in result.stdout
    assert "HeNormal" in result.stdout and "KaimingNormal" in result.stdout


def test_recommend_prints_the_recommendation(capsys):
    status, out, err = run_main_output(capsys, "recommend", "relu")
    assert status == 0, err
    assert "He" in out
    status, err = run_main(capsys, "recommend", "softsign2")
    assert status == 2
    assert "relu" in err  # the valid names are listed


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


# Every bad command line exits 2 with one line, before anything trains.


def assert_refused(status, err, start):
    assert status == 2, err
    assert "Traceback" not in err
    # argparse's two lines: the usage, then the error on one line.
    *_, last = err.strip().splitlines()
    assert last.startswith(f"keras-inits compare: error: {start}"), err


# A tiny run, so that a check that comes too late shows as a run (or a
# traceback), not as minutes of training.
TINY = ("--initializers", "Zeros", "--epochs", "1", "--depth", "1",
        "--width", "2", "--no-progress")


def test_output_that_is_a_file_exits_2_and_keeps_the_file(capsys, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("mine")
    status, err = run_main(capsys, "compare", "--output", str(target), *TINY)
    assert_refused(status, err, "argument --output: must be a folder compare "
                   "can write in")
    assert "exists and is not a folder" in err
    assert target.read_text() == "mine"


def test_output_under_a_file_exits_2(capsys, tmp_path):
    (tmp_path / "file.txt").write_text("mine")
    status, err = run_main(capsys, "compare", "--output",
                           str(tmp_path / "file.txt" / "out"), *TINY)
    assert_refused(status, err, "argument --output:")
    assert "is a file, not a folder" in err
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]


def test_output_in_an_unwritable_place_exits_2(capsys):
    # /proc refuses new entries even to root, who ignores permissions.
    status, err = run_main(capsys, "compare", "--output",
                           "/proc/keras_inits_output", *TINY)
    assert_refused(status, err, "argument --output:")
    status, err = run_main(capsys, "compare", "--output", "", *TINY)
    assert_refused(status, err, "argument --output:")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes in any folder")
def test_output_in_a_read_only_folder_exits_2(capsys, tmp_path):
    tmp_path.chmod(0o500)
    try:
        status, err = run_main(capsys, "compare", "--output",
                               str(tmp_path / "out"), *TINY)
    finally:
        tmp_path.chmod(0o700)
    assert_refused(status, err, "argument --output:")
    assert "Permission denied" in err


def test_checking_an_output_folder_leaves_nothing_behind(tmp_path):
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "report.md").write_text("old report")
    assert comparison.output_problem(str(existing)) is None
    assert comparison.output_problem(str(tmp_path / "a" / "b")) is None
    assert sorted(os.listdir(tmp_path)) == ["existing"]
    assert os.listdir(existing) == ["report.md"]
    (existing / "report.csv").mkdir()  # where compare writes a file
    assert "report.csv' exists and is not a file" in (
        comparison.output_problem(str(existing)))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-0.5", "1.5",
                                   "1e400", "9" * 400, "", "x"])
def test_threshold_outside_0_to_1_exits_2(capsys, value):
    status, err = run_main(capsys, "compare", f"--threshold={value}", *TINY)
    assert_refused(status, err, "argument --threshold: must be a number in "
                   "(0, 1]")


@pytest.mark.parametrize("flag, value", [
    ("--epochs", "9" * 400), ("--epochs", "10001"),
    ("--depth", "9" * 400), ("--depth", "1001"),
    ("--width", "9" * 400), ("--width", "8193"),
])
def test_counts_beyond_their_bounds_exit_2(capsys, flag, value):
    status, err = run_main(capsys, "compare", *TINY, flag, value)
    assert_refused(status, err, f"argument {flag}: must be a positive "
                   "integer up to")


def test_a_network_too_large_for_memory_exits_2(capsys):
    status, err = run_main(capsys, "compare", *TINY, "--depth", "1000",
                           "--width", "8192")
    assert_refused(status, err, "arguments --depth and --width: compare "
                   "would build a network of")


@pytest.mark.parametrize("value", ["", "nope", "3"])
def test_unknown_activation_exits_2(capsys, value):
    status, err = run_main(capsys, "compare", *TINY, "--activation", value)
    assert_refused(status, err, "argument --activation: must be a Keras "
                   "activation")


@pytest.mark.parametrize("entry, reason", [
    ("RandomNormal(stddev=10**400)", "the value of `stddev` is not a literal"),
    ("RandomNormal(seed=2**64)", "the value of `seed` is not a literal"),
    ("RandomNormal(stddev=1).x", "text after the closing parenthesis"),
    ("RandomNormal(a=1)+f(b=2)", "text after the closing parenthesis"),
    ("RandomNormal(stddev=" + "-" * 100_000 + "1)", "Cannot read the "
     "arguments"),  # the parser's stack overflows: MemoryError
    ("RandomNormal(stddev=1, stddev=2)", "`stddev` given twice"),
    ("RandomNormal(**{'stddev': 1})", "'**' unpacking"),
    ("LSUV(seed=1)", "LSUV takes no arguments"),
])
def test_malformed_initializer_arguments_exit_2(capsys, entry, reason):
    status, err = run_main(capsys, "compare", *TINY, "--initializers", entry)
    assert_refused(status, err, "argument --initializers:")
    assert reason in err


def test_a_seed_near_2_31_builds_every_layer():
    # Layer seeds are seed * 1000 + layer, beyond the 2**31 PyTorch's seed
    # generators hold: they wrap, as they did not before.
    model = comparison.build_network("HeUniform", 2, 4, "relu",
                                     seed=2**31 - 1)
    kernels = [keras.ops.convert_to_numpy(layer.kernel)
               for layer in model.layers]
    assert len(kernels) == 3 and not (kernels[0][:4] == kernels[1]).all()


@pytest.mark.parametrize("name, value", [
    ("epochs", 0), ("epochs", 10**400), ("depth", 1001), ("width", 2.0),
    ("batch_size", 10**400), ("seed", -1), ("seed", 2**31), ("seed", 1.5),
    ("threshold", math.nan), ("threshold", 10**400), ("threshold", 0),
    ("learning_rate", math.inf), ("learning_rate", -1),
    ("progress", "yes"), ("activation", "nope"), ("initializers", []),
    ("initializers", [None]), ("initializers", 5), ("output", ""),
])
def test_compare_refuses_bad_arguments_before_anything(tmp_path, name, value):
    arguments = dict(initializers="Zeros", epochs=1, depth=1, width=2,
                     output=str(tmp_path / "out"), progress=False)
    arguments[name] = value
    with pytest.raises(ValueError, match=f"Argument `{name}` of compare "):
        comparison.compare(**arguments)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(keras.backend.backend() not in
                    comparison.TRAINABLE_BACKENDS,
                    reason="the backend has no fit")
def test_an_existing_output_folder_is_reused(capsys, tmp_path):
    # A seed whose layer seeds pass 2**31 (a RuntimeError on PyTorch, a
    # ValueError elsewhere, before); the folder's report files are
    # replaced and other files kept.
    (tmp_path / "report.md").write_text("old report")
    (tmp_path / "notes.txt").write_text("mine")
    status, err = run_main(capsys, "compare", *TINY, "--initializers",
                           "HeUniform", "--width", "4",
                           "--seed", str(2**31 - 1), "--output", str(tmp_path))
    assert status == 0, err
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "report.md").read_text().startswith(
        "# keras_inits compare")
    assert sorted(os.listdir(tmp_path)) == sorted(
        comparison.OUTPUTS + ("notes.txt",))
