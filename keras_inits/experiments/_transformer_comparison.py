"""The recipe comparison: one small character transformer (see
`keras_inits.transformer`) trained with Adam after each initialization
recipe, from several seeds, with its figures and report.

This is what `python -m keras_inits compare --model transformer` runs. A
run (one recipe, one seed) takes every source of randomness from its
seed: the weights (`keras_inits.reinitialize(model, recipe=..., seed=)`)
and the training windows (offsets drawn from the seed; every recipe of a
seed sees the same batches in the same order). The text, its split and
the validation windows are the same for every run, so the same seeds on
the same backend give the same numbers.
"""

import dataclasses
import math
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_inits._internal import before_keras
from keras_inits._internal import checks
from keras_inits._internal import defaults
from keras_inits._internal import keras_internals
from keras_inits._internal import networks
from keras_inits._internal.arrays import to_numpy
from keras_inits._internal.autodiff import gradients
from keras_inits.experiments import _reports
from keras_inits.experiments import _runs as runs_module
from keras_inits.experiments import _transformer
from keras_inits.experiments import _transformer_reports
from keras_inits.experiments._comparison import run_seeds
from keras_inits.model import reinitialize
from keras_inits.recipes import Recipe
from keras_inits.recipes import get

NO_RECIPE = defaults.NO_RECIPE
DEFAULT_RECIPES = defaults.DEFAULT_RECIPES
OUTPUTS = defaults.RECIPE_OUTPUTS
"""The files `compare_recipes` writes into its output folder."""
OWNER = "compare_recipes"


@dataclasses.dataclass
class RecipeRun(runs_module.Run):
    """One recipe trained from one seed: a `Run` whose epochs are
    evaluation intervals, with the model's scales at initialization on
    the fixed batch: `activation_scale`, the standard deviation of the
    residual stream after the embeddings and after each block, and
    `gradient_scale`, the norm of the loss' gradient over each block's
    weights."""

    activation_scale: tuple = ()
    gradient_scale: tuple = ()


def compare_recipes(
    recipes: str | Sequence[str] = DEFAULT_RECIPES,
    *,
    steps: int = defaults.DEFAULT_STEPS,
    evaluations: int = defaults.DEFAULT_EVALUATIONS,
    depth: int = defaults.DEFAULT_TRANSFORMER_DEPTH,
    width: int = defaults.DEFAULT_TRANSFORMER_WIDTH,
    heads: int = defaults.DEFAULT_HEADS,
    length: int = defaults.DEFAULT_LENGTH,
    batch_size: int = defaults.DEFAULT_TRANSFORMER_BATCH_SIZE,
    learning_rate: float = defaults.DEFAULT_TRANSFORMER_LEARNING_RATE,
    validation_windows: int = defaults.DEFAULT_VALIDATION_WINDOWS,
    seed: int = defaults.DEFAULT_SEED,
    seeds: int = defaults.DEFAULT_SEEDS,
    output: str = defaults.DEFAULT_TRANSFORMER_OUTPUT,
    progress: bool = True,
    characters: int | None = None,
) -> list["RecipeRun"]:
    """Trains the same transformer after each recipe, from several seeds,
    and writes the report.

    Args:
        recipes: a comma-separated string or a list of recipe names
            (`keras_inits.recipes.names()`) or `Recipe`s, each once;
            "default" is no recipe: every layer's own Keras initializer.
        steps: Adam steps per run.
        evaluations: how many times (evenly spaced, `evaluations` must
            divide `steps`) the validation loss is measured.
        depth: the model's blocks (the model of `build_transformer`).
        width: its d_model.
        heads: its attention heads, a divisor of `width`.
        length: characters per window, at most 1,023.
        batch_size: Adam's, on next-character cross-entropy.
        learning_rate: Adam's, on next-character cross-entropy.
        validation_windows: how many windows of the validation text (at
            most all 510 of 64 characters) each evaluation reads, evenly
            spread over it; the same for every run.
        seed: the first seed, in [0, 2**31).
        seeds: how many seeds (1 to 100): `seed`, `seed + 1`, ...
        output: folder for `curves.png`, `scales.png`, `report.md`,
            `report.csv` (per recipe, over its seeds) and `runs.csv` (per
            recipe and seed); created if needed, those files overwritten.
        progress: show a progress bar on stderr.
        characters: None for the whole corpus, or its first `characters`
            characters (at least 2,048), for small tests.

    A run whose training or validation loss becomes NaN or infinite stops
    at the end of that evaluation interval, reported as diverged there.

    Returns:
        The `RecipeRun`s, grouped by recipe in the order given, seeds in
        order.

    Raises:
        ValueError: for a bad argument or unknown recipe, an `output` it
            cannot write in, or a backend without `fit`, before anything
            is trained or written.
    """
    settings = _checked_settings(
        dict(
            steps=steps,
            evaluations=evaluations,
            depth=depth,
            width=width,
            heads=heads,
            length=length,
            batch_size=batch_size,
            learning_rate=learning_rate,
            validation_windows=validation_windows,
            seed=seed,
            seeds=seeds,
            progress=progress,
            characters=characters,
        ),
        output,
    )
    chosen = read_recipes(recipes)
    settings.update(
        backend=runs_module.trainable_backend(OWNER), keras=keras.__version__
    )
    corpus = _transformer.load_corpus(settings["characters"])
    validation = _transformer.windows(corpus.validation, settings["length"])
    validation = tuple(
        part[spread(len(validation[0]), settings["validation_windows"])]
        for part in validation
    )
    settings.update(
        vocabulary=len(corpus.vocabulary),
        train=corpus.train.size,
        validation=len(validation[0]),
    )
    model = _compiled_model(chosen, len(corpus.vocabulary), settings)
    bar = runs_module.Progress(
        len(chosen) * len(settings["seeds"]) * settings["evaluations"],
        settings["progress"],
        unit="evaluation",
        name=OWNER,
    )
    found = []
    try:
        with runs_module.torch_threads_for(
            settings["batch_size"] * settings["length"],
            settings["width"],
            4 * settings["width"],
            largest=runs_module.ONE_THREAD_TRANSFORMER,
        ):
            for run_seed in settings["seeds"]:
                found += _run_seed(
                    model, chosen, corpus, validation, settings, run_seed, bar
                )
    finally:
        bar.close()
    order = list(chosen)
    found.sort(key=lambda run: order.index(run.label))  # stable: seeds
    os.makedirs(output, exist_ok=True)
    _reports.save_figure(
        _transformer_reports.plot_curves(found, settings), output, "curves.png"
    )
    _reports.save_figure(
        _transformer_reports.plot_scales(found), output, "scales.png"
    )
    _transformer_reports.write_reports(found, settings, output)
    return found


def read_recipes(
    recipes: str | Sequence[str | Recipe],
) -> dict[str, Recipe | None]:
    """`{name: Recipe}` of `recipes` (a comma-separated string, or a list
    of names and `Recipe`s), in order, "default" mapped to None; each
    must be known (else `recipes.get`'s error, which names the closest)
    and given once."""
    if isinstance(recipes, str):
        entries = recipes.split(",") if recipes.strip() else []
    else:
        entries = recipes
    try:
        entries = list(entries)
    except TypeError:
        raise checks.argument_error(
            OWNER, "recipes", "recipe names", recipes
        ) from None
    found = []
    for entry in entries:
        if isinstance(entry, str):
            entry = entry.strip()
        recipe = None if entry == NO_RECIPE else get(entry)
        found.append((NO_RECIPE if recipe is None else recipe.name, recipe))
    names = [name for name, _ in found]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not names or repeated:
        raise checks.argument_error(
            OWNER,
            "recipes",
            "at least one recipe, each once"
            + (f" (repeated: {', '.join(repeated)})" if repeated else ""),
            recipes,
        )
    return dict(found)


def _checked_settings(settings: dict[str, Any], output) -> dict[str, Any]:
    """`compare_recipes`' arguments in `settings`, checked in the order of
    its signature, with `seeds` replaced by the list of the runs' seeds."""
    s = dict(settings)
    for name, maximum in (
        ("steps", defaults.MAX_STEPS),
        ("evaluations", defaults.MAX_STEPS),
        ("depth", defaults.MAX_TRANSFORMER_DEPTH),
        ("width", defaults.MAX_TRANSFORMER_WIDTH),
        ("heads", defaults.MAX_TRANSFORMER_WIDTH),
        ("length", _transformer.MAX_LENGTH),
        ("batch_size", networks.MAX_BATCH_SIZE),
        ("validation_windows", networks.MAX_BATCH_SIZE),
    ):
        s[name] = checks.check_count(OWNER, name, s[name], maximum=maximum)
        if name == "evaluations" and s["steps"] % s[name]:
            raise checks.argument_error(
                OWNER, name, f"a divisor of steps ({s['steps']})", s[name]
            )
        if name == "heads" and s["width"] % s[name]:
            raise checks.argument_error(
                OWNER, name, f"a divisor of width ({s['width']})", s[name]
            )
    windows = s["steps"] * s["batch_size"] * (s["length"] + 1)
    weights = s["depth"] * 12 * s["width"] ** 2
    if max(windows, weights) > before_keras.MAX_VALUES:
        raise ValueError(
            f"{OWNER} would train on {windows:,} window characters with "
            f"{weights:,} block weights: at most {before_keras.MAX_VALUES:,} "
            f"each. Use fewer steps, a smaller batch or model. Received: "
            f"steps={s['steps']}, batch_size={s['batch_size']}, "
            f"length={s['length']}, depth={s['depth']}, width={s['width']}"
        )
    s["learning_rate"] = checks.check_positive(
        OWNER, "learning_rate", s["learning_rate"]
    )
    s["seed"] = networks.check_int_seed(OWNER, s["seed"])
    if not (
        checks.is_whole_number(s["seeds"])
        and 1 <= s["seeds"] <= defaults.MAX_SEEDS
    ):
        raise checks.argument_error(
            OWNER,
            "seeds",
            f"an integer from 1 to {defaults.MAX_SEEDS}",
            s["seeds"],
        )
    s["seeds"] = run_seeds(s["seed"], int(s["seeds"]))
    if not isinstance(s["progress"], bool):
        raise checks.argument_error(
            OWNER, "progress", "True or False", s["progress"]
        )
    if s["characters"] is not None:
        s["characters"] = checks.check_count(
            OWNER,
            "characters",
            s["characters"],
            minimum=2 * _transformer.CHUNK,
            maximum=len(_transformer.corpus_text()),
        )
    problem = _reports.output_problem(output, OUTPUTS)
    if problem:
        raise checks.argument_error(
            OWNER,
            "output",
            f"a folder {OWNER} can write in ({problem})",
            output,
        )
    return s


def _compiled_model(chosen, vocabulary, settings):
    """The one model every run trains, compiled with Adam, and each recipe
    of `chosen` tried on it: one that cannot initialize it fails here,
    before minutes of training.

    One model for every run: `initialize` re-draws all its weights and
    Adam's state, so each run starts as a new model would (the weights
    depend only on the recipe, the seed and the variables' paths), and
    the backends trace and compile its functions once, not once a run
    (seconds each)."""
    keras_internals.set_random_seed(settings["seed"])
    model = _transformer.build_transformer(
        vocabulary,
        depth=settings["depth"],
        width=settings["width"],
        heads=settings["heads"],
        length=settings["length"],
    )
    runs_module.compile_for_training(
        model, keras.optimizers.Adam(settings["learning_rate"])
    )
    for name, recipe in chosen.items():
        try:
            initialize(model, recipe, settings["seed"])
        except Exception as error:  # ValueError, or a backend's own
            raise ValueError(
                f"Recipe {name} cannot initialize the "
                f"transformer: {type(error).__name__}: "
                f"{error}"
            ) from None
    return model


def initialize(model, recipe, seed):
    """Re-draws every weight of `model` by `recipe` (a name or `Recipe`;
    None: by its layers' own initializers) from `seed`, and resets its
    compiled optimizer, if any."""
    reinitialize(
        model,
        seed=seed,
        recipe=recipe,
        measure=False,
        reset_optimizer=model.optimizer is not None,
    )


def measure_scales(model, x, y):
    """`(activation_scale, gradient_scale)` of `model` on the batch
    `(x, y)` (see `RecipeRun`), with the active backend's autodiff; the
    gradients are NaN on the NumPy backend, which has none."""
    stream = _transformer.residual_stream(model)(x, training=False)
    activations = tuple(float(np.std(to_numpy(h))) for h in stream)
    blocks = [
        _transformer.block_variables(model, block)
        for block in range(_transformer.depth_of(model))
    ]
    variables = [variable for block in blocks for variable in block]
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    found = gradients(lambda: loss(y, model(x, training=False)), variables)
    norms = []
    start = 0  # the index in `found` of the block's first gradient
    for block in blocks:
        mine = found[start : start + len(block)] if found else None
        norms.append(
            math.nan
            if mine is None
            else math.sqrt(sum(float(np.sum(np.square(g))) for g in mine))
        )
        start += len(block)
    return activations, tuple(norms)


def _run_seed(model, chosen, corpus, validation, settings, seed, bar):
    """Trains `model` from `seed` after each recipe of `chosen`, measuring
    its scales at initialization first; returns the `RecipeRun`s."""
    x, y = (
        part[spread(len(validation[0]), settings["batch_size"])]
        for part in validation
    )
    every = settings["steps"] // settings["evaluations"]
    data = _transformer.windows(
        corpus.train,
        settings["length"],
        count=settings["steps"] * settings["batch_size"],
        seed=seed,
    )
    found = []
    for name, recipe in chosen.items():
        initialize(model, recipe, seed)
        activation, gradient = measure_scales(model, x, y)
        bar.label = f"{name}, seed {seed}"
        run = runs_module.train(
            model,
            name,
            seed,
            data,
            validation,
            dict(
                batch_size=settings["batch_size"],
                epochs=settings["evaluations"],
            ),
            callbacks=[bar],
            steps_per_epoch=every,
            compiled=True,
            # One batch: an evaluation is one call, not one per batch.
            validation_batch_size=len(validation[0]),
        )
        bar.update(
            settings["evaluations"] - len(run.val_loss) - run.diverged
        )  # the evaluations a diverged run skipped
        found.append(
            RecipeRun(
                **dataclasses.asdict(run),
                activation_scale=activation,
                gradient_scale=gradient,
            )
        )
    return found


def spread(windows, count):
    """The indices of `count` (at most `windows`) of `windows` windows,
    evenly spread from the first to the last: the validation set, and the
    batch the scales are measured on, are the same for every run."""
    return np.linspace(0, windows - 1, min(windows, count)).astype(int)
