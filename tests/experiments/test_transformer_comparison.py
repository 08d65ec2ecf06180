"""Tests of `compare_recipes`, the recipe comparison behind
`python -m keras_inits compare --model transformer`: its runs over seeds,
the scales at initialization, the files it writes, divergence, and the
checks of its arguments. Sizes are tiny: a one-block transformer of width
16 on the first 4,096 characters of the corpus, 4 steps."""

import csv
import inspect
import math
import os
import re

import keras
import numpy as np
import pytest

from keras_inits import recipes
from keras_inits._internal import defaults as constants
from keras_inits.experiments import _reports as reports
from keras_inits.experiments import _runs as runs_module
from keras_inits.experiments import _transformer as transformer
from keras_inits.experiments import _transformer_comparison as comparison
from keras_inits.experiments import _transformer_reports as transformer_reports

TRAINS = keras.backend.backend() in runs_module.TRAINABLE_BACKENDS
needs_fit = pytest.mark.skipif(not TRAINS, reason="the backend has no fit")

TINY = dict(
    steps=4,
    evaluations=2,
    depth=1,
    width=16,
    heads=2,
    length=16,
    batch_size=4,
    validation_windows=8,
    characters=4 * 1024,
    progress=False,
)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# The tests of a comparison run are end-to-end (`e2e`): they run on
# TensorFlow (tests/cli/test_cli_errors.py runs one on JAX and PyTorch).
@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The runs of one tiny comparison of two recipes over two seeds, the
    folder it wrote, and the figures it saved there, by name."""
    if not TRAINS:
        pytest.skip("the backend has no fit")
    folder = tmp_path_factory.mktemp("small")
    figures = {}
    save = reports.save_figure

    def keep(figure, output, name):
        figures[name] = figure
        save(figure, output, name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reports, "save_figure", keep)
        found = comparison.compare_recipes(
            "default, gpt2", seed=5, seeds=2, output=str(folder), **TINY
        )
    return found, folder, figures


@pytest.mark.e2e
def test_runs_are_per_recipe_and_seed_and_reproducible(small, tmp_path):
    found, _, _ = small
    assert [(run.label, run.seed) for run in found] == [
        ("default", 5),
        ("default", 6),
        ("gpt2", 5),
        ("gpt2", 6),
    ]
    for run in found:
        assert len(run.val_loss) == len(run.val_accuracy) == 2
        assert not run.diverged and all(map(math.isfinite, run.val_loss))
        assert len(run.activation_scale) == 2  # embeddings, block 0
        assert len(run.gradient_scale) == 1
    # Every run re-draws the one model: seed 6 alone gives the second
    # seed's runs again, though they now come first.
    again = comparison.compare_recipes(
        "default,gpt2", seed=6, seeds=1, output=str(tmp_path), **TINY
    )
    for run, earlier in zip(again, (found[1], found[3])):
        assert (run.label, run.seed) == (earlier.label, earlier.seed)
        assert run.val_loss == earlier.val_loss
        assert run.activation_scale == earlier.activation_scale
    assert found[0].val_loss != found[1].val_loss  # seeds differ
    assert found[0].val_loss != found[2].val_loss  # and recipes


@pytest.mark.e2e
def test_scales_at_initialization(small):
    found, _, _ = small
    default, _, gpt2, _ = found
    # GPT-2 draws both embeddings from N(0, 0.02^2): their sum has std
    # 0.028 (measured on 4 x 16 positions: within 25%). Keras' Embedding
    # draws U(-0.05, 0.05), std 0.029 each: 0.041 summed.
    assert gpt2.activation_scale[0] == pytest.approx(0.02 * 2**0.5, rel=0.25)
    assert default.activation_scale[0] == pytest.approx(
        0.05 * (2 / 3) ** 0.5, rel=0.25
    )
    assert all(g > 0 for run in found for g in run.gradient_scale)


@needs_fit
def test_a_zero_head_gives_the_blocks_no_gradient():
    model = transformer.build_transformer(
        30, depth=2, width=16, heads=2, length=8
    )
    x = np.arange(16, dtype="int32").reshape(2, 8)
    y = (x + 1) % 30
    activations, gradients = comparison.measure_scales(model, x, y)
    assert len(activations) == 3 and all(g > 0 for g in gradients)
    head = model.get_layer("head").kernel
    head.assign(keras.ops.zeros(head.shape))
    _, gradients = comparison.measure_scales(model, x, y)
    assert gradients == (0.0, 0.0)


@pytest.mark.e2e
def test_the_report_files(small):
    found, folder, figures = small
    assert sorted(os.listdir(folder)) == sorted(comparison.OUTPUTS)
    summary = read_csv(folder / "report.csv")
    assert tuple(summary[0]) == transformer_reports.SUMMARY_COLUMNS
    assert [row["recipe"] for row in summary] == ["default", "gpt2"]
    for row in summary:
        mine = [run for run in found if run.label == row["recipe"]]
        for column, values in (
            ("final_val_loss", [r.val_loss[-1] for r in mine]),
            ("best_val_loss", [min(r.val_loss) for r in mine]),
            ("final_val_accuracy", [r.val_accuracy[-1] for r in mine]),
        ):
            # Printed with 4 decimals: within 5e-5 of numpy's statistics.
            assert float(row[column + "_mean"]) == pytest.approx(
                np.mean(values), abs=5e-5
            )
            assert float(row[column + "_std"]) == pytest.approx(
                np.std(values, ddof=1), abs=5e-5
            )
        assert row["seeds"] == "2" and row["seeds_diverged"] == "0"
        scales = [float(v) for v in row["activation_std_by_block"].split()]
        assert scales == pytest.approx(
            np.mean([r.activation_scale for r in mine], axis=0), rel=1e-4
        )
    per_seed = read_csv(folder / "runs.csv")
    assert tuple(per_seed[0]) == transformer_reports.RUN_COLUMNS
    assert [(r["recipe"], r["seed"]) for r in per_seed] == [
        (run.label, str(run.seed)) for run in found
    ]
    for row, run in zip(per_seed, found):
        assert row["steps_completed"] == "4" and row["diverged_by_step"] == ""
        assert row["val_loss_by_evaluation"].split() == [
            f"{v:.4f}" for v in run.val_loss
        ]
    text = (folder / "report.md").read_text()
    assert "Seeds: 5, 6" in text and "| gpt2 | " in text
    assert "| none |" in text and "`runs.csv`" in text
    assert "activation std: embeddings / block 0" in text


@pytest.mark.e2e
def test_the_figures(small):
    _, _, figures = small
    assert sorted(figures) == ["curves.png", "scales.png"]
    (ax,) = figures["curves.png"].axes
    assert ax.get_xlabel() == "training step"
    # The mean line of each recipe at steps 2 and 4, with its band.
    assert [list(line.get_xdata()) for line in ax.lines] == [[2, 4]] * 2
    assert len(ax.collections) == 2
    labels = [
        t.get_text() for t in figures["curves.png"].legends[0].get_texts()
    ]
    assert labels == ["default", "gpt2", "band: min-max over the 2 seeds"]
    activation, gradient = figures["scales.png"].axes
    assert activation.get_yscale() == gradient.get_yscale() == "log"
    assert [list(line.get_xdata()) for line in activation.lines] == [
        [-1, 0]
    ] * 2
    styles = {
        (line.get_color(), line.get_linestyle(), line.get_marker())
        for line in gradient.lines
    }
    assert len(styles) == 2


@pytest.mark.e2e
@needs_fit
def test_a_diverging_run_is_stopped_and_reported(tmp_path):
    # Adam moves every weight by about the learning rate at each step:
    # 1e30 overflows float32 products within the first steps, on every
    # backend and from every seed.
    found = comparison.compare_recipes(
        "gpt2", seeds=1, learning_rate=1e30, output=str(tmp_path), **TINY
    )
    (run,) = found
    assert (run.diverged_at, run.val_loss) == (1, [])
    (row,) = read_csv(tmp_path / "runs.csv")
    assert row["diverged_by_step"] == "2" and row["final_val_loss"] == ""
    (summary,) = read_csv(tmp_path / "report.csv")
    assert summary["seeds_diverged"] == "1"
    assert (
        "| gpt2 | - | - | - | 1/1 by step 2 |"
        in (tmp_path / "report.md").read_text()
    )


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("steps", 0, "Argument `steps` of compare_recipes must be an integer"),
        (
            "evaluations",
            3,
            "Argument `evaluations` of compare_recipes must be "
            "a divisor of steps (4). Received: evaluations=3",
        ),
        (
            "heads",
            3,
            "Argument `heads` of compare_recipes must be a divisor of "
            "width (16)",
        ),
        ("length", 1024, "Argument `length` of compare_recipes must be"),
        ("learning_rate", -1.0, "Argument `learning_rate` of compare_recipes"),
        ("seed", 2**31, "Argument `seed` of compare_recipes"),
        (
            "seeds",
            0,
            "Argument `seeds` of compare_recipes must be an integer "
            "from 1 to 100",
        ),
        ("progress", "yes", "Argument `progress` of compare_recipes"),
        ("characters", 100, "Argument `characters` of compare_recipes"),
        ("output", "", "Argument `output` of compare_recipes"),
        (
            "recipes",
            "gpt2,gpt2",
            "Argument `recipes` of compare_recipes must be "
            "at least one recipe, each once (repeated: gpt2)",
        ),
        (
            "recipes",
            "",
            "Argument `recipes` of compare_recipes must be at "
            "least one recipe",
        ),
        (
            "recipes",
            "default,gtp2",
            "Unknown init recipe 'gtp2'. Did you mean 'gpt2'",
        ),
        (
            "steps",
            10**5,
            "compare_recipes would train on 6,963,200,000 window characters",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything(
    tmp_path, name, value, message
):
    arguments = dict(TINY, recipes="default", output=str(tmp_path / "out"))
    arguments[name] = value
    if name == "steps" and value == 10**5:
        arguments.update(evaluations=1, batch_size=4096)
    with pytest.raises(ValueError, match=re.escape(message)):
        comparison.compare_recipes(**arguments)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(TRAINS, reason="the backend can train")
def test_a_backend_without_fit_is_refused(tmp_path):
    with pytest.raises(
        ValueError,
        match="The numpy backend cannot train "
        r"\(Keras has no fit for it\): run compare_recipes "
        "with one of",
    ):
        comparison.compare_recipes(
            "gpt2", output=str(tmp_path / "out"), **TINY
        )
    assert os.listdir(tmp_path) == []


def test_the_defaults_are_the_command_lines():
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(
            comparison.compare_recipes
        ).parameters.items()
    }
    c = constants
    assert defaults == dict(
        recipes=c.DEFAULT_RECIPES,
        steps=c.DEFAULT_STEPS,
        evaluations=c.DEFAULT_EVALUATIONS,
        depth=c.DEFAULT_TRANSFORMER_DEPTH,
        width=c.DEFAULT_TRANSFORMER_WIDTH,
        heads=c.DEFAULT_HEADS,
        length=c.DEFAULT_LENGTH,
        batch_size=c.DEFAULT_TRANSFORMER_BATCH_SIZE,
        learning_rate=c.DEFAULT_TRANSFORMER_LEARNING_RATE,
        validation_windows=c.DEFAULT_VALIDATION_WINDOWS,
        seed=c.DEFAULT_SEED,
        seeds=c.DEFAULT_SEEDS,
        output=c.DEFAULT_TRANSFORMER_OUTPUT,
        progress=True,
        characters=None,
    )
    assert c.DEFAULT_STEPS % c.DEFAULT_EVALUATIONS == 0
    assert c.DEFAULT_TRANSFORMER_WIDTH % c.DEFAULT_HEADS == 0


def test_recipes_are_read_by_name_or_as_recipes():
    from keras_inits.recipes._recipe import Recipe

    mine = Recipe(
        name="mine",
        rule=lambda slot: None,
        summary="Nothing.",
        source="",
        formulas={},
    )
    assert comparison.read_recipes(" gpt2 ,default") == {
        "gpt2": recipes.get("gpt2"),
        "default": None,
    }
    assert comparison.read_recipes([mine, "default"]) == {
        "mine": mine,
        "default": None,
    }
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `recipes` of compare_recipes must be recipe names. "
            "Received: recipes=5"
        ),
    ):
        comparison.read_recipes(5)
