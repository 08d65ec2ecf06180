"""The command line's static tables (`keras_inits.cli._static`) and its
Keras-free checks (`_checks`) against the live registries and checks they
stand for: a table that drifts from keras_inits or Keras fails here, with
the live table to paste into `_static.py`."""

import inspect
import json
import os
import pprint
import subprocess
import sys

import keras
import pytest

from keras_inits import experiments
from keras_inits import recipes
from keras_inits._internal import defaults
from keras_inits._internal.naming import short_name
from keras_inits.cli import _checks as checks
from keras_inits.cli import _static as static
from keras_inits.experiments import _initializer_lists as initializer_lists
from keras_inits.initializers import _recommend
from keras_inits.initializers import name_table
from keras_inits.recipes import _book


def assert_table(name, live):
    """`_static.<name>` equals `live`, else fails with the live table."""
    assert getattr(static, name) == live, (
        f"keras_inits/cli/_static.py is out of date: {name} = "
        + pprint.pformat(live, width=79, sort_dicts=False)
    )


def _summary(cls):
    """The first paragraph of `cls`' docstring, on one line."""
    paragraph = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0]
    return " ".join(paragraph.split())


def test_spellings_are_the_name_table():
    assert_table(
        "SPELLINGS",
        {
            name: canonical
            for name, (_, canonical) in sorted(name_table().items())
        },
    )


def test_parameters_are_the_constructors():
    live = {}
    for cls, canonical in name_table().values():
        parameters = inspect.signature(cls.__init__).parameters.values()
        live[canonical] = (
            None
            if any(p.kind is p.VAR_KEYWORD for p in parameters)
            else tuple(p.name for p in parameters if p.name != "self")
        )
    assert_table("PARAMETERS", dict(sorted(live.items())))


def test_list_rows_are_the_catalogue():
    table = name_table()
    ours = {
        canonical.split(">", 1)[1]: cls
        for cls, canonical in table.values()
        if canonical.startswith("keras_inits>")
    }
    rows, others = [], []
    for name in experiments.valid_names():
        if name in ours:
            # The family is the private module's name: `_variance_scaling`.
            family = ours[name].__module__.rsplit(".", 1)[-1].lstrip("_")
            rows.append((name, family, _summary(ours[name])))
        elif name == experiments.LSUV:
            others.append(
                (
                    name,
                    "compare only: Orthogonal, then keras_inits.lsuv on "
                    "training images",
                )
            )
        else:
            cls = table[name][0]
            others.append(
                (
                    name,
                    f"alias of {cls.__name__}"
                    if cls.__name__ != name
                    else f"Keras' own: {_summary(cls)}",
                )
            )
    assert_table("INITIALIZERS", tuple(rows))
    assert_table("OTHER_NAMES", tuple(others))
    assert checks.valid_names() == experiments.valid_names()
    assert static.LSUV == experiments.LSUV


def test_recipes_are_the_built_in_ones():
    # A recipe a user registers exists only in the process that imports
    # its module: the command line knows the built-in ones.
    assert_table(
        "RECIPES",
        tuple((r.name, r.summary, r.source) for r in _book.BUILT_IN),
    )
    assert recipes.names()[: len(static.RECIPES)] == checks.recipe_names()
    assert checks.NO_RECIPE == defaults.NO_RECIPE


def test_activations_are_the_ones_keras_takes():
    def known(name):
        try:
            keras.activations.get(name)
        except (ValueError, TypeError):
            return False
        return True

    public = {
        name
        for name, obj in vars(keras.activations).items()
        if not name.startswith("_") and callable(obj)
    }
    assert_table(
        "ACTIVATIONS",
        tuple(
            sorted(
                name
                for name in public | set(static.ACTIVATIONS)
                if known(name)
            )
        ),
    )


def test_recommendations_are_recommends():
    live = {}
    for name in _recommend.ACTIVATIONS:
        found = _recommend.recommend(name)
        live[name] = (short_name(found.initializer), found.reason)
    assert_table("RECOMMENDATIONS", live)
    found = _recommend.recommend("relu", recurrent=True)
    assert_table("RECURRENT", (short_name(found.initializer), found.reason))


def test_convolution_only_are_the_ones_refusing_rank_2():
    live = []
    for cls, canonical in sorted(set(name_table().values()), key=str):
        try:
            cls()(shape=(64, 64))
        except TypeError:  # needs arguments (ConstantArray, DepthScaled)
            continue
        except ValueError as error:
            if "needs a tensor of rank" in str(error):
                live.append(canonical)
    assert_table("CONVOLUTION_ONLY", tuple(sorted(live)))


def message(check, *arguments):
    """The message of the ValueError `check(*arguments)` raises, or None."""
    try:
        check(*arguments)
    except ValueError as error:
        return str(error)
    return None


@pytest.mark.parametrize(
    "text",
    [
        "Zeros,HeNormal",
        "Zeros, RandomNormal(stddev=0.01), he_uniform, normal, LSUV",
        "keras_inits>Orthogonal,OrthogonalInitializer,lsuv",
        "HeNormall",
        "henormal",
        "xavier_uniform",
        "kaiming_normal_",
        "NoSuchThing",
        "",
        " , ",
        "RandomNormal(stddev=1",
        "RandomNormal(stddev=10**400)",
        "RandomNormal(stddev=1).x",
        "RandomNormal(a=1)+f(b=2)",
        "RandomNormal(stddev=" + "-" * 100_000 + "1)",
        "RandomNormal(stddev=1, stddev=2)",
        "RandomNormal(**{'stddev': 1})",
        "RandomNormal(1)",
        "LSUV(seed=1)",
        "Nope(stddev=1)",
        "x" * 300,
    ],
)
def test_initializer_checks_answer_as_parse_initializers(text):
    assert message(checks.check_initializers, text) == message(
        experiments.parse_initializers, text
    )


@pytest.mark.parametrize(
    "text",
    [
        "HeNormal,he_normal",
        "Zeros, LSUV, lsuv, zeros, keras_inits>Zeros",
        "Orthogonal,OrthogonalInitializer,normal,RandomNormal",
        "HeNormal,GlorotUniform",
    ],
)
def test_repeated_initializers_answer_as_read_entries(text):
    entries = checks.check_initializers(text)
    assert checks.repeated_initializers(text, entries) == message(
        initializer_lists.read_entries, text
    )


@pytest.mark.parametrize(
    "entry, keyword",
    [("RandomNormal(stdev=1)", "stdev"), ("HeNormal(gain=2)", "gain")],
)
def test_an_unknown_keyword_is_refused_by_both(entry, keyword):
    # The constructor's TypeError, worded by each: both refuse it.
    live = message(experiments.parse_initializers, entry)
    assert live is not None and keyword in live
    mine = message(checks.check_initializers, entry)
    assert mine is not None and f"takes no argument `{keyword}`" in mine


@pytest.mark.parametrize(
    "text",
    [
        "gpt2",
        "default,gpt2,gpt_neox,bert,torchtitan_llama",
        "gpt3",
        "GPT2",
        "llama",
        "gtp2",
        "nothing_like_it",
        "gpt2, gpt2",
        "",
        " ",
        "gpt2,,bert",
    ],
)
def test_recipe_checks_answer_as_read_recipes(text):
    assert message(checks.check_recipes, text) == message(
        experiments.read_recipes, text
    )


# Its child processes name their backend: once, on TensorFlow.
@pytest.mark.e2e
def test_the_backend_is_the_one_keras_loads(tmp_path):
    # Keras' own answer, in new processes: from keras.json in KERAS_HOME,
    # then KERAS_BACKEND over it.
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax"}))
    environment = {
        name: value
        for name, value in os.environ.items()
        if name != "KERAS_BACKEND"
    }
    environment["KERAS_HOME"] = str(tmp_path)
    for changes in ({}, {"KERAS_BACKEND": "numpy"}):
        child = dict(environment, **changes)
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import keras; print(keras.backend.backend())",
            ],
            capture_output=True,
            text=True,
            env=child,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert checks.configured_backend(child) == result.stdout.strip()
    assert checks.configured_backend({"KERAS_HOME": str(tmp_path / "no")}) == (
        "tensorflow"
    )
