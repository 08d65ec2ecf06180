"""Tests of the command line (`python -m keras_inits`, `keras-inits`): its
start before Keras loads, its arguments and its commands. The comparison
experiment's numbers are tested in test_compare.py."""

import importlib.util
import inspect
import os
import re
import subprocess
import sys

import keras
import pytest

from keras_inits import _startup as startup
from keras_inits import experiments
from keras_inits import recipes
from keras_inits._internal import defaults as constants
from keras_inits._internal import networks
from keras_inits.cli import _main as cli
from keras_inits.experiments import _comparison as comparison
from keras_inits.experiments import _initializer_lists as initializer_lists
from keras_inits.initializers import _names as names


def run_cli(*arguments, backend=None):
    """Runs `python -m keras_inits` as a program, in a new process."""
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if backend:
        environment["KERAS_BACKEND"] = backend
    return subprocess.run(
        [sys.executable, "-m", "keras_inits", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


def run_main_output(capsys, *arguments):
    """Runs the command line in this process (argument parsing needs no
    new one): (exit status, stdout, stderr)."""
    from keras_inits.cli._main import main

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
    status, err = run_main(
        capsys, "compare", "--initializers", "Zeros,HeNormall"
    )
    assert status == 2
    assert "HeNormall" in err
    assert "Did you mean 'keras_inits>HeNormal'" in err
    assert "GlorotUniform" in err  # the valid names are listed


@pytest.mark.skipif(
    keras.backend.backend() != "numpy",
    reason="runs in this process, whose Keras cannot switch "
    "to the numpy backend; the numpy run of the suite has it",
)
def test_compare_on_a_backend_without_fit_exits_2_and_names_the_others(capsys):
    status, err = run_main(capsys, "compare", "--backend", "numpy")
    assert status == 2
    assert "numpy backend cannot train" in err
    assert "tensorflow, jax, torch" in err


def test_bad_flag_value_exits_2(capsys):
    status, err = run_main(capsys, "compare", "--epochs", "0")
    assert status == 2
    assert "--epochs" in err


# The command line run as a program from every backend (`smoke`).
@pytest.mark.e2e
@pytest.mark.smoke
def test_backend_flag_sets_the_backend_before_keras_loads():
    # In a new process: `python -m keras_inits` runs as a program, and
    # `--backend` sets the backend before the package imports Keras, over
    # the KERAS_BACKEND this process runs on.
    other = "numpy" if keras.backend.backend() != "numpy" else "jax"
    result = run_cli(
        "list", "--backend", other, backend=keras.backend.backend()
    )
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


# Every bad command line exits 2 with one line, before anything trains.


def assert_refused(status, err, start):
    assert status == 2, err
    assert "Traceback" not in err
    # One line: the error, and where the usage is (`--help`).
    assert err.count("\n") == 1 and err.endswith("--help)\n"), err
    assert err.startswith(f"keras-inits compare: error: {start}"), err


# A tiny run, so that a check that comes too late shows as a run (or a
# traceback), not as minutes of training.
TINY = (
    "--initializers",
    "Zeros",
    "--epochs",
    "1",
    "--depth",
    "1",
    "--width",
    "2",
    "--no-progress",
)


def test_output_that_is_a_file_exits_2_and_keeps_the_file(capsys, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("mine")
    status, err = run_main(capsys, "compare", "--output", str(target), *TINY)
    assert_refused(
        status, err, "argument --output: must be a folder compare can write in"
    )
    assert "exists and is not a folder" in err
    assert target.read_text() == "mine"


def test_output_under_a_file_exits_2(capsys, tmp_path):
    (tmp_path / "file.txt").write_text("mine")
    status, err = run_main(
        capsys,
        "compare",
        "--output",
        str(tmp_path / "file.txt" / "out"),
        *TINY,
    )
    assert_refused(status, err, "argument --output:")
    assert "is a file, not a folder" in err
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]


def test_output_in_an_unwritable_place_exits_2(capsys):
    # /proc refuses new entries even to root, who ignores permissions.
    status, err = run_main(
        capsys, "compare", "--output", "/proc/keras_inits_output", *TINY
    )
    assert_refused(status, err, "argument --output:")
    status, err = run_main(capsys, "compare", "--output", "", *TINY)
    assert_refused(status, err, "argument --output:")


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root writes in any folder"
)
def test_output_in_a_read_only_folder_exits_2(capsys, tmp_path):
    tmp_path.chmod(0o500)
    try:
        status, err = run_main(
            capsys, "compare", "--output", str(tmp_path / "out"), *TINY
        )
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
    assert "report.csv' exists and is not a file" in str(
        comparison.output_problem(str(existing))
    )


@pytest.mark.parametrize(
    "value",
    ["nan", "inf", "-inf", "0", "-0.5", "1.5", "1e400", "9" * 400, "", "x"],
)
def test_threshold_outside_0_to_1_exits_2(capsys, value):
    status, err = run_main(capsys, "compare", f"--threshold={value}", *TINY)
    assert_refused(
        status, err, "argument --threshold: must be a number in (0, 1]"
    )


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--epochs", "9" * 400),
        ("--epochs", "10001"),
        ("--depth", "9" * 400),
        ("--depth", "1001"),
        ("--width", "9" * 400),
        ("--width", "8193"),
    ],
)
def test_counts_beyond_their_bounds_exit_2(capsys, flag, value):
    status, err = run_main(capsys, "compare", *TINY, flag, value)
    assert_refused(
        status, err, f"argument {flag}: must be a positive integer up to"
    )


def test_a_network_too_large_for_memory_exits_2(capsys):
    status, err = run_main(
        capsys, "compare", *TINY, "--depth", "1000", "--width", "8192"
    )
    assert_refused(
        status,
        err,
        "arguments --depth and --width: compare would build a network of",
    )


@pytest.mark.parametrize("value", ["", "nope", "3"])
def test_unknown_activation_exits_2(capsys, value):
    status, err = run_main(capsys, "compare", *TINY, "--activation", value)
    assert_refused(
        status, err, "argument --activation: must be a Keras activation"
    )


@pytest.mark.parametrize(
    "entry, reason",
    [
        (
            "RandomNormal(stddev=10**400)",
            "the value of `stddev` is not a literal",
        ),
        ("RandomNormal(seed=2**64)", "the value of `seed` is not a literal"),
        ("RandomNormal(stddev=1).x", "text after the closing parenthesis"),
        ("RandomNormal(a=1)+f(b=2)", "text after the closing parenthesis"),
        (
            "RandomNormal(stddev=" + "-" * 100_000 + "1)",
            "Cannot read the arguments",
        ),  # the parser's stack overflows: MemoryError
        ("RandomNormal(stddev=1, stddev=2)", "`stddev` given twice"),
        ("RandomNormal(**{'stddev': 1})", "'**' unpacking"),
        ("LSUV(seed=1)", "LSUV takes no arguments"),
    ],
)
def test_malformed_initializer_arguments_exit_2(capsys, entry, reason):
    status, err = run_main(capsys, "compare", *TINY, "--initializers", entry)
    assert_refused(status, err, "argument --initializers:")
    assert reason in err


# The command line loads Keras only to run a command, on the backend asked.


def imported_modules(*arguments, environment=None):
    """Runs `python -X importtime -m keras_inits ...` in a new process:
    (the completed process, the top-level names of the modules it
    imported), the second read from the import times on stderr."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keras_inits", *arguments],
        capture_output=True,
        text=True,
        env=environment or dict(os.environ),
        timeout=300,
    )
    modules = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return result, modules


@pytest.mark.parametrize(
    "arguments, status, output",
    [
        (("--help",), 0, "{compare,list,recipes,recommend}"),
        (("compare", "--help"), 0, "--seeds SEEDS"),
        (("list", "--help"), 0, "usage: keras-inits list"),
        (("recipes", "--help"), 0, "usage: keras-inits recipes"),
        (
            ("compare", "--recipes", "gpt2"),
            2,
            "error: argument --recipes: only with --model transformer (the mlp "
            "comparison does not take it)",
        ),
        (
            ("compare", "--model", "transformer", "--initializers", "Zeros"),
            2,
            "error: argument --initializers: only with --model mlp",
        ),
        (
            ("compare", "--model", "transformer", "--threshold", "0.5"),
            2,
            "error: argument --threshold: only with --model mlp",
        ),
        (
            ("compare", "--steps", "10"),
            2,
            "error: argument --steps: only with --model transformer",
        ),
        (
            ("compare", "--model", "transformer", "--width", "30"),
            2,
            "error: argument --width: must be a multiple of 4 (the attention "
            "heads) with --model transformer, got 30",
        ),
        (
            ("compare", "--model", "transformer", "--depth", "101"),
            2,
            "error: argument --depth: must be a positive integer up to 100 with "
            "--model transformer",
        ),
        (
            ("compare", "--model", "transformer", "--steps", "305"),
            2,
            "error: argument --evaluations: must divide --steps (305), got 10",
        ),
        (("compare", "--model", "cnn"), 2, "invalid choice: 'cnn'"),
        (("recommend",), 2, "the following arguments are required"),
        (("compare", "--epochs", "0"), 2, "argument --epochs: must be"),
        (("--backend", "theano", "list"), 2, "invalid choice: 'theano'"),
        (("lst",), 2, "invalid choice: 'lst'"),
    ],
)
@pytest.mark.e2e  # loads no backend: once, on TensorFlow
def test_help_and_usage_errors_load_no_backend(arguments, status, output):
    result, modules = imported_modules(*arguments)
    assert result.returncode == status, result.stderr[-2000:]
    assert output in result.stdout + result.stderr
    assert "argparse" in modules  # the import times were read
    loaded = modules & {"keras", "tensorflow", "jax", "torch"}
    assert not loaded, f"{arguments} imported {loaded}"


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed"
)
@pytest.mark.e2e  # names its backend: once, on TensorFlow
def test_backend_jax_never_imports_tensorflow(tmp_path):
    # Even when this process, and so the default, runs on TensorFlow:
    # `compare` loads Keras on JAX (a mistake found only then, a negative
    # stddev, ends the run before anything trains).
    environment = dict(os.environ, KERAS_BACKEND="tensorflow")
    result, modules = imported_modules(
        "--backend",
        "jax",
        "compare",
        "--initializers",
        "RandomNormal(stddev=-1)",
        "--output",
        str(tmp_path / "out"),
        environment=environment,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Argument `stddev` of RandomNormal must be" in result.stderr
    assert {"keras", "jax"} <= modules
    assert "tensorflow" not in modules


needs_tensorflow = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None,
    reason="tensorflow is not installed",
)


def compare_on_tensorflow_unasked(*arguments):
    """`python -m keras_inits --backend tensorflow compare ARGUMENTS` run
    as a user who has not set TF_CPP_MIN_LOG_LEVEL runs it."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name != "TF_CPP_MIN_LOG_LEVEL"
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_inits",
            "--backend",
            "tensorflow",
            "compare",
            *arguments,
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


@needs_tensorflow
@pytest.mark.e2e  # names its backend: once, on TensorFlow
def test_no_backend_log_lines_unless_asked(tmp_path):
    # TensorFlow writes its oneDNN notice (twice) while it loads, whatever
    # TF_CPP_MIN_LOG_LEVEL says; the command line drops it, unless the
    # user set that variable, and so asked for TensorFlow's own logging.
    # `compare` loads Keras (and TensorFlow); a mistake found only then, a
    # negative stddev, ends the run: its one line is all stderr holds.
    result = compare_on_tensorflow_unasked(
        "--initializers",
        "RandomNormal(stddev=-1)",
        "--output",
        str(tmp_path / "out"),
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Argument `stddev` of RandomNormal must be" in result.stderr


@needs_tensorflow
@pytest.mark.e2e  # names its backend: once, on TensorFlow
def test_a_run_without_a_gpu_shows_no_cuda_lines(tmp_path):
    # The full tensorflow wheel (the `tensorflow` extra) looks for CUDA at
    # its first operation: on a machine without a driver it logs an error
    # (`failed call to cuInit`) whatever TF_CPP_MIN_LOG_LEVEL below 3 says.
    # The command line looks for devices while it drops the import's
    # notices, and drops that error when no driver was found.
    result = compare_on_tensorflow_unasked(
        "--seeds", "1", "--output", str(tmp_path / "out"), *TINY
    )
    assert result.returncode == 0, result.stderr
    # absl's log lines: a severity letter, the date, the time.
    logged = re.findall(r"^[IWEF]\d{4} .*$", result.stderr, re.MULTILINE)
    assert logged == [], result.stderr


@pytest.mark.e2e  # names its backend: once, on TensorFlow
def test_importing_the_package_leaves_the_process_alone():
    # A library user's process, with a `--backend` of its own: no parser,
    # no environment variable set. (JAX, which Keras imports on every
    # backend here, sets TF_CPP_MIN_LOG_LEVEL to 1 if it is unset; the
    # command line sets 2 before that.)
    environment = {
        name: value
        for name, value in os.environ.items()
        if name != "TF_CPP_MIN_LOG_LEVEL"
    }
    environment["KERAS_BACKEND"] = "numpy"
    code = (
        "import os, sys, keras_inits; "
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), "
        "os.environ.get('KERAS_BACKEND'), 'keras_inits.cli' in "
        "sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "--backend", "jax"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    level, backend, parsed = result.stdout.split()
    assert backend == "numpy" and parsed == "False" and level != "2"


PYTHON = "/usr/bin/python3"


@pytest.mark.parametrize(
    "argv, orig_argv, expected",
    [
        (["-m"], [PYTHON, "-m", "keras_inits"], True),
        (
            ["-m", "list"],
            [PYTHON, "-X", "importtime", "-m", "keras_inits", "list"],
            True,
        ),
        (["-m", "--help"], [PYTHON, "-mkeras_inits", "--help"], True),
        (["-m", "x"], [PYTHON, "-Imkeras_inits", "x"], True),
        (
            ["/venv/bin/keras-inits", "list"],
            ["/venv/bin/keras-inits", "list"],
            True,
        ),
        # Another program, that imports keras_inits.
        (["-m"], [PYTHON, "-m", "keras_inits.cli"], False),
        (["-m", "keras_inits"], [PYTHON, "-m", "tool", "keras_inits"], False),
        (["-m", "x"], [PYTHON, "-mtool", "x"], False),
        (["/venv/bin/pytest"], [PYTHON, "/venv/bin/pytest"], False),
        (["-c", "keras_inits"], [PYTHON, "-c", "...", "keras_inits"], False),
        (["keras_inits.py"], [PYTHON, "keras_inits.py"], False),
        ([], [], False),
    ],
)
def test_the_command_line_is_recognized_exactly(argv, orig_argv, expected):
    assert startup.is_command_line(argv, orig_argv) is expected


def test_backend_before_or_after_the_command_is_the_one_asked(capsys):
    running = keras.backend.backend()
    other = "numpy" if running != "numpy" else "jax"
    for arguments in (
        ["--backend", running, "list"],
        ["list", "--backend", running],
    ):
        status, out, err = run_main_output(capsys, *arguments)
        assert status == 0, err
        assert f"Keras backend: {running}" in out
    # Called from Python, Keras cannot switch: main says so, wherever the
    # flag is (a subcommand's parser once reset it to None).
    for arguments in (
        ["--backend", other, "list"],
        ["list", "--backend", other],
    ):
        status, out, err = run_main_output(capsys, *arguments)
        assert f"cannot switch to {other}" in str(status)


def test_a_backend_that_is_not_installed_exits_2(capsys, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit) as exit:
        cli.prepare(["--backend", "jax", "list"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(
        "keras-inits: error: argument --backend: jax is not installed (pip "
        'install "keras-inits[jax]")'
    )


def test_compare_help_shows_each_default_once(capsys):
    status, out, _ = run_main_output(capsys, "compare", "--help")
    assert status == 0
    text = " ".join(out.split())
    assert "(default: None)" not in text
    assert text.count("(default: KERAS_BACKEND") == 1
    assert (
        f"--epochs EPOCHS 1 to {constants.MAX_EPOCHS:,} (default: 15)" in text
    )
    assert "(default: 0) --seeds SEEDS" in text  # --seed's
    assert "1 to 100 (default: 3) --output" in text
    assert "(default: compare_output)" in text
    assert "(default: Zeros, RandomNormal(stddev=0.01), GlorotUniform" in text
    # Each model's own: --recipes, and --depth's two.
    assert ("(default: " + ",".join(constants.DEFAULT_RECIPES) + ")") in text
    assert (
        f"blocks, 1 to {constants.MAX_TRANSFORMER_DEPTH} (default: "
        f"{constants.DEFAULT_TRANSFORMER_DEPTH})"
    ) in text
    assert "--model {mlp,transformer}" in text and "(default: mlp)" in text


def test_seeds_goes_to_compare(capsys, monkeypatch, tmp_path):
    received = {}

    def compare(initializers, **kwargs):
        received.update(kwargs)
        raise ValueError("stopped before training")

    monkeypatch.setattr(experiments, "compare", compare)
    monkeypatch.setattr(
        constants, "TRAINABLE_BACKENDS", (keras.backend.backend(),)
    )
    tiny = (*TINY, "--output", str(tmp_path / "out"))
    status, err = run_main(capsys, "compare", *tiny, "--seeds", "7")
    assert status == 2 and "stopped before training" in err
    assert received["seeds"] == 7 and received["seed"] == 0
    run_main(capsys, "compare", *tiny)
    assert received["seeds"] == constants.DEFAULT_SEEDS == 3
    for value in ("0", "101", "x"):
        status, err = run_main(capsys, "compare", *tiny, "--seeds", value)
        assert_refused(
            status,
            err,
            "argument --seeds: must be a positive integer up to 100",
        )


def test_constants_are_compares_and_the_networks_ones():
    # The command line shows and checks `constants`, without Keras; the
    # experiment must hold to the same values.
    assert constants.DEFAULT_INITIALIZERS == comparison.DEFAULT_INITIALIZERS
    assert constants.MAX_EPOCHS == comparison.MAX_EPOCHS
    assert constants.MAX_DEPTH == networks.MAX_DEPTH
    assert constants.MAX_WIDTH == networks.MAX_WIDTH
    assert constants.MAX_SEEDS == getattr(comparison, "MAX_SEEDS", 100)
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(
            comparison.compare
        ).parameters.items()
    }
    for name in (
        "epochs",
        "depth",
        "width",
        "activation",
        "seed",
        "seeds",
        "output",
        "threshold",
    ):
        if name in defaults:  # `seeds` is on its way
            assert defaults[name] == getattr(
                constants, f"DEFAULT_{name.upper()}"
            )


def test_list_shows_every_valid_name_and_whole_descriptions(capsys):
    status, out, err = run_main_output(capsys, "list")
    assert status == 0, err
    lines = {
        line.split()[0]: line
        for line in out.splitlines()[1:]
        if line.startswith("  ")
    }
    valid = initializer_lists.valid_names()
    # The names an unknown initializer's message lists, and no other.
    assert sorted(lines) == valid
    for alias, target in [
        ("IdentityInitializer", "Identity"),
        ("OrthogonalInitializer", "Orthogonal"),
    ]:
        assert lines[alias].split(None, 1)[1] == f"alias of {target}"
    assert "compare only" in lines["LSUV"]
    for name, cls in names.our_classes().items():
        # A one-line summary (PEP 257), shown whole.
        summary = (inspect.getdoc(cls) or "").split("\n\n")[0]
        assert "\n" not in summary and summary.endswith("."), name
        assert lines[name].endswith(f"  {summary}"), name


def test_recipes_lists_every_recipe_with_its_source(capsys):
    status, out, err = run_main_output(capsys, "recipes")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("keras_inits recipes; use them as")
    for name in recipes.names():
        recipe = recipes.get(name)
        index = next(
            i for i, line in enumerate(lines) if line.split()[:1] == [name]
        )
        assert lines[index].endswith(f"  {recipe.summary}"), name
        assert lines[index + 1].strip() == f"source: {recipe.source}", name
    assert lines[-1].split()[0] == "default"
    assert "own Keras initializer" in lines[-1]


TRANSFORMER = ("compare", "--model", "transformer", "--no-progress")


def test_an_unknown_recipe_exits_2_with_the_closest_name(capsys, tmp_path):
    output = ("--output", str(tmp_path / "out"))
    status, err = run_main(
        capsys, *TRANSFORMER, *output, "--recipes", "default,gtp2"
    )
    assert_refused(
        status,
        err,
        "argument --recipes: Unknown init recipe 'gtp2'. Did you mean 'gpt2'?",
    )
    status, err = run_main(
        capsys, *TRANSFORMER, *output, "--recipes", "gpt2, gpt2"
    )
    assert_refused(
        status,
        err,
        "argument --recipes: Argument `recipes` of "
        "compare_recipes must be at least one recipe, each once "
        "(repeated: gpt2)",
    )
    assert os.listdir(tmp_path) == []


def test_transformer_arguments_go_to_compare_recipes(
    capsys, monkeypatch, tmp_path
):
    received = {}

    def compare_recipes(recipes, **kwargs):
        received.update(kwargs, recipes=recipes)
        raise ValueError("stopped before training")

    monkeypatch.setattr(experiments, "compare_recipes", compare_recipes)
    monkeypatch.setattr(
        constants, "TRAINABLE_BACKENDS", (keras.backend.backend(),)
    )
    status, err = run_main(capsys, *TRANSFORMER)
    assert status == 2 and "stopped before training" in err
    c = constants
    assert received == dict(
        recipes=list(c.DEFAULT_RECIPES),
        steps=c.DEFAULT_STEPS,
        evaluations=c.DEFAULT_EVALUATIONS,
        depth=c.DEFAULT_TRANSFORMER_DEPTH,
        width=c.DEFAULT_TRANSFORMER_WIDTH,
        seed=c.DEFAULT_SEED,
        seeds=c.DEFAULT_SEEDS,
        output=c.DEFAULT_TRANSFORMER_OUTPUT,
        progress=False,
    )
    run_main(
        capsys,
        *TRANSFORMER,
        "--recipes",
        "gpt2,default",
        "--steps",
        "40",
        "--evaluations",
        "4",
        "--depth",
        "3",
        "--width",
        "32",
        "--seeds",
        "2",
        "--output",
        str(tmp_path / "out"),
    )
    assert (
        received["recipes"],
        received["steps"],
        received["evaluations"],
        received["depth"],
        received["width"],
        received["seeds"],
        received["output"],
    ) == (["gpt2", "default"], 40, 4, 3, 32, 2, str(tmp_path / "out"))
