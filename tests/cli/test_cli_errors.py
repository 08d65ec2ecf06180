"""The command line's promises, in new processes as a user runs it: a usage
error is one line on stderr and exit status 2, with nothing on stdout;
every mistake, `--help`, `list`, `recipes` and `recommend` answer without
importing Keras (or TensorFlow); and no TensorFlow log line is printed on
any backend. Each case runs in a child process that imports no Keras, in
about a tenth of a second."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

# The modules none of the answers without Keras may import: Keras, each
# of its backends (NumPy's too: importing it alone costs a tenth of a
# second), and keras-hub.
# Each child process names its backend (or loads none), whatever this
# process runs on: the file runs once, on TensorFlow (`e2e`).
pytestmark = pytest.mark.e2e

HEAVY = ("keras", "tensorflow", "jax", "torch", "numpy", "keras_hub")

# The console script's process (`keras-inits`, whose argv[0] is its path):
# runs the command line as the script does, then prints on its last line
# the exit status and which of `HEAVY` were imported (`sys.modules`).
SCRIPT = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["keras-inits", *json.loads(sys.argv[1])]
try:
    from keras_inits.cli import main
    code = main()
except SystemExit as exit:
    code = exit.code
sys.stdout.flush()
print(json.dumps({"code": code,
                  "imported": [name for name in heavy if name in sys.modules]}))
"""


def child_environment(**changes):
    """This process' environment without TF_CPP_MIN_LOG_LEVEL (the user's
    own, which the command line must not need), with `changes`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name != "TF_CPP_MIN_LOG_LEVEL"
    }
    environment.update(changes)
    return environment


def run_script(arguments, environment):
    """`keras-inits ARGUMENTS`: (status, stdout, stderr, imported), where
    imported is the set of the `HEAVY` modules the process imported."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            json.dumps(list(arguments)),
            json.dumps(HEAVY),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    *out, last = result.stdout.splitlines() or [""]
    try:
        state = json.loads(last)
    except ValueError:  # a traceback: no last line of ours
        pytest.fail(result.stdout + result.stderr)
    imported = set(state["imported"])
    return state["code"], "\n".join(out), result.stderr, imported


def run_module(arguments, environment):
    """`python -X importtime -m keras_inits ARGUMENTS`: (status, stdout,
    stderr without the import times, imported), imported read from the
    import times."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keras_inits", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    lines = result.stderr.splitlines(keepends=True)
    times = [line for line in lines if line.startswith("import time:")]
    modules = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in times}
    assert "argparse" in modules  # the import times were read
    err = "".join(line for line in lines if line not in times)
    imported = modules & set(HEAVY)
    return result.returncode, result.stdout, err, imported


RUNNERS = {"script": run_script, "module": run_module}

# (arguments, environment, the start of the one line). "{file}" is a file.
COMPARE = "keras-inits compare: error: "
MISTAKES = [
    (
        ["lst"],
        {},
        "keras-inits: error: argument {compare,list,recipes,recommend}: "
        "invalid choice: 'lst' (choose from 'compare', 'list', 'recipes', "
        "'recommend'). Did you mean 'list'?",
    ),
    (["--bogus", "list"], {}, "keras-inits: error: unrecognized arguments"),
    (
        ["--backend", "jaxx", "list"],
        {},
        "keras-inits: error: argument --backend: invalid choice: 'jaxx' "
        "(choose from 'tensorflow', 'jax', 'torch', 'numpy'). Did you mean "
        "'jax'?",
    ),
    (
        ["compare", "--seeds", "0"],
        {},
        COMPARE + "argument --seeds: must be a positive integer up to 100, "
        "got '0'",
    ),
    (
        ["compare", "--seed", "-1"],
        {},
        COMPARE + "argument --seed: must be an integer in [0, 2**31)",
    ),
    (
        ["compare", "--threshold", "2"],
        {},
        COMPARE + "argument --threshold: must be a number in (0, 1]",
    ),
    (
        ["compare", "--model", "cnn"],
        {},
        COMPARE + "argument --model: invalid choice: 'cnn'",
    ),
    (
        ["compare", "--initializers", "Zeros,HeNormall"],
        {},
        COMPARE + "argument --initializers: Unknown initializer: "
        "'HeNormall'. Did you mean 'keras_inits>HeNormal'",
    ),
    (
        ["compare", "--initializers", "xavier_uniform"],
        {},
        COMPARE + "argument --initializers: Unknown initializer: "
        "'xavier_uniform'. Did you mean 'keras_inits>GlorotUniform'",
    ),
    (
        ["compare", "--initializers", "RandomNormal(stdev=1)"],
        {},
        COMPARE + "argument --initializers: 'RandomNormal(stdev=1)': "
        "RandomNormal takes no argument `stdev`. Did you mean `stddev`?",
    ),
    (
        ["compare", "--initializers", "RandomNormal(stddev=1"],
        {},
        COMPARE + "argument --initializers: Cannot read the initializer list",
    ),
    (
        ["compare", "--initializers", "HeNormal,he_normal"],
        {},
        COMPARE + "Argument `initializers` of compare must be each "
        "initializer once (repeated: HeNormal). Received: "
        "initializers='HeNormal,he_normal'",
    ),
    (
        ["compare", "--initializers", "Zeros,dirac,ICNR(scale=2)"],
        {},
        COMPARE + "argument --initializers: dirac, ICNR fill only "
        "convolution kernels (a tensor of rank 3 or more), not the Dense "
        "kernels of the MLP compare trains",
    ),
    (
        ["compare", "--initializers", "LSUV(seed=1)"],
        {},
        COMPARE + "argument --initializers: LSUV takes no arguments",
    ),
    (
        ["compare", "--activation", "rellu"],
        {},
        COMPARE + "argument --activation: must be a Keras activation (relu, "
        "tanh, gelu, ...), got 'rellu'. Did you mean 'relu'?",
    ),
    (
        ["compare", "--output", "{file}"],
        {},
        COMPARE + "argument --output: must be a folder compare can write in "
        "('{file}' exists and is not a folder)",
    ),
    (
        ["compare", "--output", "{file}/out"],
        {},
        COMPARE + "argument --output: must be a folder compare can write in "
        "('{file}' is a file, not a folder)",
    ),
    (
        ["compare", "--output", "/proc/keras_inits_output"],
        {},
        COMPARE + "argument --output: must be a folder compare can write in",
    ),
    (
        ["compare", "--depth", "1000", "--width", "8192"],
        {},
        COMPARE + "arguments --depth and --width: compare would build a "
        "network of",
    ),
    (
        ["compare", "--model", "transformer", "--recipes", "gpt3"],
        {},
        COMPARE + "argument --recipes: Unknown init recipe 'gpt3'. Did you "
        "mean 'gpt2'?",
    ),
    (
        ["compare", "--model", "transformer", "--recipes", "gpt2, gpt2"],
        {},
        COMPARE + "argument --recipes: Argument `recipes` of compare_recipes "
        "must be at least one recipe, each once (repeated: gpt2)",
    ),
    (
        ["compare", "--recipes", "gpt2"],
        {},
        COMPARE + "argument --recipes: only with --model transformer",
    ),
    (
        ["compare", "--model", "transformer", "--width", "30"],
        {},
        COMPARE + "argument --width: must be a multiple of 4",
    ),
    (
        ["--backend", "numpy", "compare"],
        {},
        COMPARE + "the numpy backend cannot train (Keras has no fit for it): "
        "use --backend tensorflow, jax, torch",
    ),
    (
        ["compare", "--model", "transformer", "--backend", "numpy"],
        {},
        COMPARE + "the numpy backend cannot train",
    ),
    (
        ["compare"],
        {"KERAS_BACKEND": "numpy"},
        COMPARE + "the numpy backend cannot train",
    ),
    (
        ["recommend", "relu6x"],
        {},
        "keras-inits recommend: error: argument activation: must be an "
        "activation recommend knows (celu, elu,",
    ),
    (
        ["recommend"],
        {},
        "keras-inits recommend: error: the following arguments are required: "
        "activation",
    ),
]


@pytest.mark.parametrize("runner", sorted(RUNNERS))
@pytest.mark.parametrize(
    "arguments, environment, start",
    MISTAKES,
    ids=[" ".join(case[0]) or "none" for case in MISTAKES],
)
def test_a_mistake_is_one_line_without_keras(
    runner, arguments, environment, start, tmp_path
):
    file = tmp_path / "file.txt"
    file.write_text("mine")
    arguments = [a.replace("{file}", str(file)) for a in arguments]
    start = start.replace("{file}", str(file))
    status, out, err, imported = RUNNERS[runner](
        arguments,
        child_environment(**{"KERAS_BACKEND": "tensorflow", **environment}),
    )
    assert (status, out) == (2, ""), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(start), err
    assert err.rstrip().endswith("--help)"), err  # where the usage is
    assert not imported, f"{arguments} imported {imported}"
    assert file.read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]


@pytest.mark.parametrize("runner", sorted(RUNNERS))
@pytest.mark.parametrize(
    "arguments, first",
    [
        (["--help"], "usage: keras-inits"),
        (["compare", "--help"], "usage: keras-inits compare"),
        (["list"], "keras_inits initializers (Keras backend: tensorflow)"),
        (
            ["--backend", "jax", "list"],
            "keras_inits initializers (Keras backend: jax)",
        ),
        (["recipes"], "keras_inits recipes; use them as"),
        (["recommend", "relu"], "HeNormal"),
        (["recommend", "softmax"], "GlorotUniform"),
        (["recommend", "SELU"], "LecunNormal"),
        (["recommend", "tanh", "--recurrent"], "Orthogonal"),
    ],
)
def test_tables_and_help_answer_without_keras(runner, arguments, first):
    status, out, err, imported = RUNNERS[runner](
        arguments, child_environment(KERAS_BACKEND="tensorflow")
    )
    assert (status, err) == (0, ""), err
    assert out.startswith(first), out
    assert not imported, f"{arguments} imported {imported}"


def test_the_backend_comes_from_keras_json_as_keras_reads_it(tmp_path):
    # No KERAS_BACKEND: `list` names the backend of KERAS_HOME's
    # keras.json, and `compare` refuses one that cannot train, before
    # Keras (which reads the same file) loads.
    (tmp_path / "keras.json").write_text('{"backend": "numpy"}')
    environment = child_environment(KERAS_HOME=str(tmp_path))
    environment.pop("KERAS_BACKEND", None)
    status, out, err, imported = run_script(["list"], environment)
    assert status == 0 and not imported, err
    assert out.startswith("keras_inits initializers (Keras backend: numpy)")
    status, out, err, imported = run_script(["compare"], environment)
    assert status == 2 and not imported, err
    assert err.startswith(COMPARE + "the numpy backend cannot train")


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None,
    reason="tensorflow is not installed",
)
def test_a_mistake_found_once_keras_loaded_is_one_line_too(tmp_path):
    # An argument value only the initializer's constructor checks: Keras
    # (and TensorFlow) load, and still only the one line is printed, with
    # none of TensorFlow's notices.
    status, out, err, imported = run_script(
        [
            "--backend",
            "tensorflow",
            "compare",
            "--initializers",
            "RandomNormal(stddev=-1)",
            "--output",
            str(tmp_path / "out"),
        ],
        child_environment(),
    )
    assert (status, out) == (2, ""), err
    assert err.count("\n") == 1, err
    assert err.startswith(
        COMPARE + "argument --initializers: 'RandomNormal(stddev=-1)': "
        "Argument `stddev` of RandomNormal must be a positive number"
    ), err
    assert {"keras", "tensorflow"} <= imported


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_a_transformer_comparison_imports_no_tensorflow(backend, tmp_path):
    # The smallest run that applies recipes (reinitialize serializes the
    # layers' configs, which asks Keras' lazy TensorFlow module): no
    # TensorFlow import, so none of its log lines.
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    status, out, err, imported = run_module(
        [
            "--backend",
            backend,
            "compare",
            "--model",
            "transformer",
            "--recipes",
            "default,gpt2,torchtitan_llama",
            "--steps",
            "1",
            "--evaluations",
            "1",
            "--depth",
            "1",
            "--width",
            "4",
            "--seeds",
            "1",
            "--no-progress",
            "--output",
            str(tmp_path / "out"),
        ],
        child_environment(),
    )
    assert (status, err) == (0, ""), err
    assert out.splitlines()[-1].startswith("Report: ")
    assert "keras" in imported and "tensorflow" not in imported
