"""Tests of `compare`, the comparison experiment behind
`python -m keras_inits compare`: its runs over seeds, the report and the
figures it writes, divergence, and the checks of its arguments."""

import csv
import inspect
import math
import os
import re

import keras
import numpy as np
import pytest

from keras_inits._internal import defaults as constants
from keras_inits.cli._main import main
from keras_inits.experiments import _comparison as comparison
from keras_inits.experiments import _reports as reports
from keras_inits.experiments._runs import Run
from keras_inits.experiments._runs import summarize

TRAINS = keras.backend.backend() in comparison.TRAINABLE_BACKENDS
needs_fit = pytest.mark.skipif(not TRAINS, reason="the backend has no fit")

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
# A short run of two seeds (3 ReLU layers of 32 units, 4 epochs) that still
# separates the two: Zeros gives every unit of a layer the same gradient,
# so it stays at chance on 10 balanced classes (~0.1), while He learns the
# digits in a few epochs (0.91 to 0.94 measured on the three backends).
SMALL = dict(
    initializers="Zeros,HeUniform",
    epochs=4,
    depth=3,
    width=32,
    seed=3,
    seeds=2,
    progress=False,
)


def run_main(capsys, *arguments):
    """Runs the command line in this process: (exit status, stderr)."""
    try:
        status = main(list(arguments))
    except SystemExit as exit:
        status = exit.code
    return status, capsys.readouterr().err


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# The tests of a compare run are end-to-end (`e2e`): they run on TensorFlow,
# and the diverging run on every backend that trains.
@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The `Run`s of one SMALL compare, the folder it wrote, and the
    figures it saved there, by file name."""
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
        runs = comparison.compare(output=str(folder), **SMALL)
    return runs, folder, figures


@pytest.mark.e2e
def test_compare_numbers_and_their_reproducibility(small, tmp_path):
    runs, _, _ = small
    assert [(run.label, run.seed) for run in runs] == [
        ("Zeros", 3),
        ("Zeros", 4),
        ("HeUniform", 3),
        ("HeUniform", 4),
    ]
    zeros, he = runs[:2], runs[2:]
    for z, h in zip(zeros, he):
        assert len(z.val_accuracy) == len(h.val_loss) == 4
        assert z.val_accuracy[-1] < 0.2
        assert h.val_accuracy[-1] > z.val_accuracy[-1] + 0.4
    # Each run depends on its own seed only: seed 4 alone gives the second
    # seed's runs again, split, weights and shuffling included; and two
    # seeds give different runs.
    again = comparison.compare(
        output=str(tmp_path), **dict(SMALL, seed=4, seeds=1)
    )
    assert [(r.val_accuracy, r.val_loss) for r in again] == [
        (r.val_accuracy, r.val_loss) for r in (zeros[1], he[1])
    ]
    assert he[0].val_loss != he[1].val_loss


@pytest.mark.e2e
def test_the_report_holds_the_statistics_of_the_runs(small):
    runs, folder, _ = small
    summary = {
        row["initializer"]: row for row in read_csv(folder / "report.csv")
    }
    assert list(summary) == ["Zeros", "HeUniform"]
    for label, row in summary.items():
        mine = [run for run in runs if run.label == label]
        assert row["seeds"] == "2" and row["seeds_diverged"] == "0"
        for column, values in (
            ("final_val_accuracy", [r.val_accuracy[-1] for r in mine]),
            ("best_val_accuracy", [max(r.val_accuracy) for r in mine]),
            ("final_val_loss", [r.val_loss[-1] for r in mine]),
        ):
            # Printed with 4 decimals: within 5e-5 of numpy's statistics.
            assert float(row[column + "_mean"]) == pytest.approx(
                np.mean(values), abs=5e-5
            )
            assert float(row[column + "_std"]) == pytest.approx(
                np.std(values, ddof=1), abs=5e-5
            )
        reached = [
            r.epochs_to(0.9) for r in mine if r.epochs_to(0.9) is not None
        ]
        assert row["seeds_reached"] == str(len(reached))
        if reached:
            assert float(row["epochs_to_threshold_mean"]) == pytest.approx(
                np.mean(reached), abs=0.005
            )
    per_seed = read_csv(folder / "runs.csv")
    assert [(row["initializer"], row["seed"]) for row in per_seed] == [
        (run.label, str(run.seed)) for run in runs
    ]
    for row, run in zip(per_seed, runs):
        assert row["val_accuracy_by_epoch"].split() == [
            f"{v:.4f}" for v in run.val_accuracy
        ]
        assert row["final_val_accuracy"] == f"{run.val_accuracy[-1]:.4f}"
        # Reaching 0.9 is decided on the accuracy as printed.
        assert (float(row["best_val_accuracy"]) >= 0.9) == (
            row["epochs_to_threshold"] != ""
        )
    text = (folder / "report.md").read_text()
    assert "Seeds: 3, 4" in text and "| Zeros | " in text
    assert "| never | none |" in text  # Zeros: "reached 90%", "diverged"
    assert "`runs.csv`" in text


@pytest.mark.e2e
def test_the_figures_are_written_and_say_what_they_show(small):
    _, folder, figures = small
    assert sorted(os.listdir(folder)) == sorted(comparison.OUTPUTS)
    for name in comparison.OUTPUTS:
        assert os.path.getsize(folder / name) > 0
    assert sorted(figures) == [
        "curves.png",
        "signal_propagation.png",
        "weights_at_init.png",
    ]
    assert (
        figures["signal_propagation.png"]
        ._suptitle.get_text()
        .startswith(
            "Signal propagation at initialization, measured on 256 training "
            "digits (seed 3): 3 x Dense(32, relu) + Dense(10)"
        )
    )
    weights = figures["weights_at_init.png"]
    first, *others = weights.axes
    assert len(others) == 5  # 2 initializers x 3 layers
    assert all(first.get_shared_x_axes().joined(first, ax) for ax in others)
    assert weights._suptitle.get_text() == (
        "Kernels at initialization (seed 3): every panel on the same "
        "x-range and bins; counts per panel"
    )


def runs_of(label, seed, accuracies, diverged_at=None):
    """A `Run` with these validation accuracies (losses 1 - accuracy)."""
    return Run(
        label,
        seed,
        list(accuracies),
        [1 - a for a in accuracies],
        1.0,
        diverged_at,
    )


def test_summaries_over_seeds():
    # 324/360 as Keras computes it in float32: shown, and reached, as 0.9.
    ninety = 0.8999999761581421
    runs = [
        runs_of("A", 0, [0.5, ninety]),
        runs_of("A", 1, [0.95, 0.96]),
        runs_of("A", 2, [0.5], diverged_at=2),
        runs_of("B", 0, [0.1, 0.2]),
        runs_of("B", 1, [0.3, 0.1]),
    ]
    a, b = summarize(runs, 0.9)
    assert (a.label, a.seeds, a.reached, a.diverged_at) == ("A", 3, 2, (2,))
    # Over the two seeds that did not diverge.
    assert a.final_accuracy == pytest.approx(
        (np.mean([ninety, 0.96]), np.std([ninety, 0.96], ddof=1))
    )
    assert a.best_accuracy == pytest.approx(
        (np.mean([ninety, 0.96]), np.std([ninety, 0.96], ddof=1))
    )
    assert a.epochs_to_threshold == 1.5
    assert (b.reached, b.epochs_to_threshold, b.diverged_at) == (0, None, ())
    assert b.best_accuracy == pytest.approx((0.25, np.std([0.2, 0.3], ddof=1)))
    header, *rows = [
        re.split(" {2,}", line)
        for line in reports.format_table(runs, 0.9).splitlines()
    ]
    assert header == [
        "initializer",
        "final val accuracy",
        "best val accuracy",
        "final val loss",
        "epochs to 90%",
        "reached 90%",
        "diverged",
        "seconds per run",
    ]
    assert rows == [
        [
            "A",
            "0.9300 ± 0.0424",
            "0.9300 ± 0.0424",
            "0.0700 ± 0.0424",
            "1.5",
            "2/3",
            "1/3 at epoch 2",
            "1.0",
        ],
        [
            "B",
            "0.1500 ± 0.0707",
            "0.2500 ± 0.0707",
            "0.8500 ± 0.0707",
            "-",
            "never",
            "none",
            "1.0",
        ],
    ]
    (single,) = summarize([runs_of("C", 0, [ninety])], 0.9)
    assert single.final_accuracy[0] == ninety and math.isnan(
        single.final_accuracy[1]
    )
    assert "0.9000 " in reports.format_table([runs_of("C", 0, [ninety])], 0.9)


def test_a_threshold_is_reached_as_the_report_prints_it():
    run = runs_of("A", 0, [0.89994, 0.8999999761581421, 0.91])
    assert run.epochs_to(0.9) == 2  # 0.9000 printed, not 0.89999998
    assert run.epochs_to(0.905) == 3
    assert runs_of("A", 0, [0.89994]).epochs_to(0.9) is None


# The compare run of every backend that trains (`smoke`).
@pytest.mark.e2e
@pytest.mark.smoke
@needs_fit
def test_a_diverging_run_is_stopped_and_reported(tmp_path):
    # With a linear network and this learning rate, the first SGD steps
    # make the weights overflow: the loss is NaN within epoch 1 on every
    # backend, from every seed. (The report of runs that diverged beside
    # runs that did not: test_summaries_over_seeds.)
    runs = comparison.compare(
        "HeUniform",
        epochs=3,
        depth=2,
        width=8,
        seeds=2,
        activation="linear",
        learning_rate=1e4,
        output=str(tmp_path),
        progress=False,
    )
    assert [(r.diverged_at, r.val_accuracy) for r in runs] == [(1, [])] * 2
    text = (tmp_path / "report.md").read_text()
    assert "| HeUniform | - | - | - | - | never | 2/2 at epochs 1, 1 |" in text
    rows = read_csv(tmp_path / "runs.csv")
    assert [row["diverged_at"] for row in rows] == ["1", "1"]
    assert [row["final_val_accuracy"] for row in rows] == ["", ""]
    figure = reports.plot_curves(runs, 0.9)
    marks = [line for line in figure.axes[0].lines if line.get_marker() == "X"]
    assert [tuple(line.get_xdata()) for line in marks] == [(1,), (1,)]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "HeUniform (2/2 seeds diverged)" in legend


def test_the_curves_figure():
    runs = (
        [runs_of("Zeros", s, [0.1, 0.1, 0.1]) for s in (0, 1)]
        + [runs_of("Small", s, [0.1, 0.1, 0.1]) for s in (0, 1)]
        + [
            runs_of("He", 0, [0.5, 0.8, 0.93]),
            runs_of("He", 1, [0.6, 0.9, 1]),
            runs_of("Big", 0, [0.4], diverged_at=2),
            runs_of("Big", 1, [0.3, 0.4, 0.5]),
        ]
    )
    figure = reports.plot_curves(runs, 0.9)
    accuracy, loss = figure.axes
    assert not accuracy.get_legend() and not loss.get_legend()
    (legend,) = figure.legends  # one legend, outside both panels
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [
        "Zeros",
        "Small",
        "He",
        "Big (1/2 seeds diverged)",
        "band: min-max over the 2 seeds",
        "X: a seed diverged at that epoch (NaN/inf loss, training stopped)",
    ]
    styles = [
        (h.get_color(), h.get_linestyle(), h.get_marker())
        for h in legend.legend_handles[:4]
    ]
    assert (
        len({s[0] for s in styles})
        == len({s[1] for s in styles})
        == len({s[2] for s in styles})
        == 4
    )
    # He's line is the mean of its two seeds; each initializer with two
    # finished seeds has its min-max band, Big (one left) none.
    assert [0.55, 0.85, 0.965] in [
        list(np.round(line.get_ydata(), 6)) for line in accuracy.lines
    ]
    assert len(accuracy.collections) == 3
    assert [t.get_text() for t in accuracy.texts] == [
        "threshold 90%",
        "chance (10 classes)",
    ]
    for ax in (accuracy, loss):
        assert ax.xaxis.get_major_locator()._integer
    assert "mean over 2 seeds" in figure._suptitle.get_text()


def test_run_seeds_stay_below_2_31():
    assert comparison.run_seeds(5, 3) == [5, 6, 7]
    assert comparison.run_seeds(2**31 - 2, 3) == [2**31 - 2, 2**31 - 1, 0]


def test_a_seed_near_2_31_builds_every_layer():
    # Layer seeds are seed * 1000 + layer, beyond the 2**31 PyTorch's seed
    # generators hold: they wrap, as they did not before.
    model = comparison.build_network("HeUniform", 2, 4, "relu", seed=2**31 - 1)
    kernels = [
        keras.ops.convert_to_numpy(layer.kernel) for layer in model.layers
    ]
    assert len(kernels) == 3 and not (kernels[0][:4] == kernels[1]).all()


@pytest.mark.parametrize(
    "name, value",
    [
        ("epochs", 0),
        ("epochs", 10**400),
        ("depth", 1001),
        ("width", 2.0),
        ("batch_size", 10**400),
        ("seed", -1),
        ("seed", 2**31),
        ("seed", 1.5),
        ("seeds", 0),
        ("seeds", 101),
        ("seeds", 2.0),
        ("seeds", True),
        ("threshold", math.nan),
        ("threshold", 10**400),
        ("threshold", 0),
        ("learning_rate", math.inf),
        ("learning_rate", -1),
        ("progress", "yes"),
        ("activation", "nope"),
        ("initializers", []),
        ("initializers", [None]),
        ("initializers", 5),
        ("output", ""),
        ("initializers", "HeUniform,he_uniform"),
    ],
)
def test_compare_refuses_bad_arguments_before_anything(tmp_path, name, value):
    arguments = dict(
        initializers="Zeros",
        epochs=1,
        depth=1,
        width=2,
        output=str(tmp_path / "out"),
        progress=False,
    )
    arguments[name] = value
    with pytest.raises(ValueError, match=f"Argument `{name}` of compare "):
        comparison.compare(**arguments)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "value, shown", [(0, "0"), (101, "101"), ("3", "'3'"), (None, "None")]
)
def test_the_seeds_error_says_what_it_takes(tmp_path, value, shown):
    with pytest.raises(
        ValueError,
        match=(
            "^Argument `seeds` of compare must be an integer from 1 to 100. "
            f"Received: seeds={shown}$"
        ),
    ):
        comparison.compare("Zeros", seeds=value, output=str(tmp_path))


def test_a_repeated_initializer_is_refused(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"must be each initializer once "
        r"\(repeated: HeUniform\)",
    ):
        comparison.compare(["HeUniform", "he_uniform"], output=str(tmp_path))


def test_the_defaults_are_the_command_lines():
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(
            comparison.compare
        ).parameters.items()
    }
    assert defaults["initializers"] == constants.DEFAULT_INITIALIZERS
    assert (
        defaults["epochs"],
        defaults["depth"],
        defaults["width"],
        defaults["activation"],
        defaults["seed"],
        defaults["seeds"],
        defaults["threshold"],
        defaults["output"],
    ) == (
        constants.DEFAULT_EPOCHS,
        constants.DEFAULT_DEPTH,
        constants.DEFAULT_WIDTH,
        constants.DEFAULT_ACTIVATION,
        constants.DEFAULT_SEED,
        constants.DEFAULT_SEEDS,
        constants.DEFAULT_THRESHOLD,
        constants.DEFAULT_OUTPUT,
    )


@pytest.mark.skipif(TRAINS, reason="the backend can train")
def test_compare_refuses_a_backend_without_fit(tmp_path):
    with pytest.raises(
        ValueError,
        match="The numpy backend cannot train "
        r"\(Keras has no fit for it\): run compare with one "
        r"of \['tensorflow', 'jax', 'torch'\]",
    ):
        comparison.compare(
            "Zeros",
            epochs=1,
            depth=1,
            width=2,
            output=str(tmp_path / "out"),
            progress=False,
        )
    assert os.listdir(tmp_path) == []


@needs_fit
def test_an_existing_output_folder_is_reused(capsys, tmp_path):
    # A seed whose layer seeds pass 2**31 (a RuntimeError on PyTorch, a
    # ValueError elsewhere, before); the folder's report files are
    # replaced and other files kept.
    (tmp_path / "report.md").write_text("old report")
    (tmp_path / "notes.txt").write_text("mine")
    status, err = run_main(
        capsys,
        "compare",
        *TINY,
        "--initializers",
        "HeUniform",
        "--width",
        "4",
        "--seeds",
        "1",
        "--seed",
        str(2**31 - 1),
        "--output",
        str(tmp_path),
    )
    assert status == 0, err
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (
        (tmp_path / "report.md")
        .read_text()
        .startswith("# keras_inits compare")
    )
    assert sorted(os.listdir(tmp_path)) == sorted(
        comparison.OUTPUTS + ("notes.txt",)
    )


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="PyTorch's thread count"
)
def test_small_networks_train_on_one_torch_thread():
    import torch

    from keras_inits.experiments._runs import torch_threads_for

    before = torch.get_num_threads()
    with torch_threads_for(64, 256, 64):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads_for(64, 512, 64):
        assert torch.get_num_threads() == before
    with pytest.raises(KeyboardInterrupt):
        with torch_threads_for(64, 64, 64):
            raise KeyboardInterrupt
    assert torch.get_num_threads() == before
