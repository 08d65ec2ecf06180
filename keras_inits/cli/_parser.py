"""The command line's parser: its commands, their flags and defaults (from
`_internal.defaults`), and the checks of the flags' values.

Imports only the standard library and `_internal.defaults`: `prepare` parses
the command line before Keras loads, so that `--help` and usage errors
never wait for it. What needs the static tables (an activation's name,
the initializers and recipes) or the file system (the output folder) is
checked by `_main`, after the parse, with `_checks`: still before Keras
loads.
"""

import argparse
import difflib

from keras_inits._internal import before_keras
from keras_inits._internal import defaults

# Keras' backends; `--backend X` needs the module X installed.
BACKENDS = defaults.BACKENDS


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage error is one line on stderr: "prog:
    error: what was wrong, what was received (see prog --help)", exit
    status 2. The usage goes with `--help`. A value outside a flag's
    choices (a command, `--backend`, `--model`) is answered with the
    closest choice, if one is close."""

    def error(self, message):
        """Exits with status 2 and `message` on one line."""
        self.exit(
            2,
            f"{self.prog}: error: {' '.join(message.split())} (see "
            f"{self.prog} --help)\n",
        )

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            choices = [str(choice) for choice in action.choices]
            close = difflib.get_close_matches(str(value), choices, n=1)
            hint = f". Did you mean {close[0]!r}?" if close else ""
            raise argparse.ArgumentError(
                action,
                f"invalid choice: {value!r} (choose from "
                f"{', '.join(map(repr, choices))}){hint}",
            )
        super()._check_value(action, value)


def build():
    """The parser of the command line and `{name: subparser}` of the
    commands whose errors name them."""
    common = Parser(add_help=False)
    # SUPPRESS: a subcommand's parser sets no `backend` of its own, which
    # would replace the one given before the subcommand with None.
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        default=argparse.SUPPRESS,
        help="Keras backend to run on (default: KERAS_BACKEND, else Keras' "
        "configured one)",
    )
    parser = Parser(
        prog="keras-inits",
        parents=[common],
        description="Weight initializers for Keras 3: compare them on real "
        "data, list them, get a recommendation.",
    )
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="{compare,list,recipes,recommend}",
    )
    compare = commands.add_parser(
        "compare",
        parents=[common],
        help="train one network with several initializers (or recipes) "
        "and report",
        description="Trains the same MLP on scikit-learn's 8x8 digits with "
        "each initializer (--model mlp), or the same small "
        "character transformer on the standard library's "
        "docstrings after each initialization recipe (--model "
        "transformer), from several seeds, and writes figures "
        "and reports into --output.",
    )
    _compare_arguments(compare)
    commands.add_parser(
        "list", parents=[common], help="print the catalogue of initializers"
    )
    commands.add_parser(
        "recipes",
        parents=[common],
        help="print the initialization recipes for transformers",
    )
    recommend = commands.add_parser(
        "recommend",
        parents=[common],
        help="the recommended initializer for an activation",
    )
    recommend.add_argument("activation", help="e.g. relu, tanh, selu")
    recommend.add_argument(
        "--recurrent",
        action="store_true",
        help="for the recurrent kernel of an RNN",
    )
    return parser, {"compare": compare, "recommend": recommend}


# The flags of one model only, with their defaults; and the defaults of the
# flags both take, per model.
MODEL_FLAGS = {
    "mlp": dict(
        initializers=", ".join(defaults.DEFAULT_INITIALIZERS),
        epochs=defaults.DEFAULT_EPOCHS,
        activation=defaults.DEFAULT_ACTIVATION,
        threshold=defaults.DEFAULT_THRESHOLD,
    ),
    "transformer": dict(
        recipes=",".join(defaults.DEFAULT_RECIPES),
        steps=defaults.DEFAULT_STEPS,
        evaluations=defaults.DEFAULT_EVALUATIONS,
    ),
}
SHARED_DEFAULTS = {
    "mlp": dict(
        depth=defaults.DEFAULT_DEPTH,
        width=defaults.DEFAULT_WIDTH,
        output=defaults.DEFAULT_OUTPUT,
    ),
    "transformer": dict(
        depth=defaults.DEFAULT_TRANSFORMER_DEPTH,
        width=defaults.DEFAULT_TRANSFORMER_WIDTH,
        output=defaults.DEFAULT_TRANSFORMER_OUTPUT,
    ),
}


def resolve_model(parser, arguments):
    """For `compare`: refuses a flag of the other model, and a transformer
    size out of bounds, with `parser` (usage errors, before Keras loads);
    then fills in the chosen model's defaults."""
    model = arguments.model
    for other, flags in MODEL_FLAGS.items():
        given = [
            flag
            for flag in flags
            if other != model and getattr(arguments, flag) is not None
        ]
        if given:
            parser.error(
                f"argument --{given[0]}: only with --model {other} "
                f"(the {model} comparison does not take it)"
            )
    for name, value in {
        **MODEL_FLAGS[model],
        **SHARED_DEFAULTS[model],
    }.items():
        if getattr(arguments, name) is None:
            setattr(arguments, name, value)
    if model != "transformer":
        return
    c = defaults
    for flag, largest in (
        ("depth", c.MAX_TRANSFORMER_DEPTH),
        ("width", c.MAX_TRANSFORMER_WIDTH),
    ):
        if getattr(arguments, flag) > largest:
            parser.error(
                f"argument --{flag}: must be a positive integer up "
                f"to {largest:,} with --model transformer"
            )
    if arguments.width % c.DEFAULT_HEADS:
        parser.error(
            f"argument --width: must be a multiple of "
            f"{c.DEFAULT_HEADS} (the attention heads) with --model "
            f"transformer, got {arguments.width}"
        )
    if arguments.steps % arguments.evaluations:
        parser.error(
            f"argument --evaluations: must divide --steps "
            f"({arguments.steps}), got {arguments.evaluations}"
        )


def _compare_arguments(compare):
    """Adds `compare`'s flags to its subparser `compare`: `--model`, each
    model's own flags, and the flags both take."""
    c = defaults
    compare.add_argument(
        "--model",
        choices=c.MODELS,
        default=c.DEFAULT_MODEL,
        help="mlp: initializers on the digits; transformer: recipes on a "
        "character model (default: %(default)s)",
    )
    # A flag of one model has no default here (None: not given), so that
    # giving it with the other model is refused; `resolve_model` fills in
    # the defaults the help shows.
    compare.add_argument(
        "--initializers",
        help="mlp: comma-separated names, with optional keyword arguments, "
        "e.g. 'Zeros,HeUniform,RandomNormal(stddev=0.01)'; LSUV means "
        "Orthogonal followed by keras_inits.lsuv; the list command "
        "shows every name (default: "
        f"{', '.join(c.DEFAULT_INITIALIZERS)})",
    )
    compare.add_argument(
        "--recipes",
        help="transformer: comma-separated recipe names; 'default' is each "
        "layer's own Keras initializer; the recipes command shows every "
        f"name (default: {','.join(c.DEFAULT_RECIPES)})",
    )
    compare.add_argument(
        "--epochs",
        type=_count(c.MAX_EPOCHS),
        help=f"1 to {c.MAX_EPOCHS:,} (default: {c.DEFAULT_EPOCHS}); mlp",
    )
    compare.add_argument(
        "--steps",
        type=_count(c.MAX_STEPS),
        help=f"transformer: Adam steps per run, 1 to {c.MAX_STEPS:,} "
        f"(default: {c.DEFAULT_STEPS})",
    )
    compare.add_argument(
        "--evaluations",
        type=_count(c.MAX_STEPS),
        help="transformer: validation losses per run, evenly spaced, a "
        f"divisor of --steps (default: {c.DEFAULT_EVALUATIONS})",
    )
    compare.add_argument(
        "--depth",
        type=_count(c.MAX_DEPTH),
        help=f"mlp: hidden layers, 1 to {c.MAX_DEPTH:,} (default: "
        f"{c.DEFAULT_DEPTH}); transformer: blocks, 1 to "
        f"{c.MAX_TRANSFORMER_DEPTH} (default: "
        f"{c.DEFAULT_TRANSFORMER_DEPTH})",
    )
    compare.add_argument(
        "--width",
        type=_count(c.MAX_WIDTH),
        help=f"mlp: units per hidden layer, 1 to {c.MAX_WIDTH:,}, and depth "
        f"x width x width at most 2**27 (default: {c.DEFAULT_WIDTH}); "
        f"transformer: d_model, a multiple of {c.DEFAULT_HEADS} (the "
        f"heads) up to {c.MAX_TRANSFORMER_WIDTH:,} (default: "
        f"{c.DEFAULT_TRANSFORMER_WIDTH})",
    )
    compare.add_argument(
        "--activation",
        help="mlp: Keras activation of the hidden layers (default: "
        f"{c.DEFAULT_ACTIVATION})",
    )
    compare.add_argument(
        "--seed",
        type=_seed,
        default=c.DEFAULT_SEED,
        help="the first seed, an integer in [0, 2**31); a run's seed drives "
        "its weights and data (mlp: split and shuffling; transformer: "
        "training windows) (default: %(default)s)",
    )
    compare.add_argument(
        "--seeds",
        type=_count(c.MAX_SEEDS),
        default=c.DEFAULT_SEEDS,
        help="how many seeds each initializer or recipe is trained from "
        "(seed, "
        f"seed + 1, ...), 1 to {c.MAX_SEEDS} (default: %(default)s)",
    )
    compare.add_argument(
        "--output",
        help="folder for the figures and reports, created if needed; in an "
        "existing folder those files are overwritten (default: "
        f"{c.DEFAULT_OUTPUT}), with --model transformer "
        f"{c.DEFAULT_TRANSFORMER_OUTPUT}",
    )
    compare.add_argument(
        "--threshold",
        type=_threshold,
        help="mlp: validation accuracy for 'epochs to reach', in (0, 1] "
        f"(default: {c.DEFAULT_THRESHOLD})",
    )
    compare.add_argument(
        "--no-progress", action="store_true", help="no progress bar"
    )


def shown(text):
    """`text` quoted for an error message, shortened past 60 characters."""
    return before_keras.shown_text(text, 60)


def _count(largest):
    """The argparse type of a count from 1 to `largest`."""

    def count(text):
        try:
            value = int(text)
        except ValueError:  # also for more than 4,300 digits
            value = 0
        if not 1 <= value <= largest:
            raise argparse.ArgumentTypeError(
                f"must be a positive integer up to {largest:,}, got "
                f"{shown(text)}"
            )
        return value

    return count


def _threshold(text):
    """The argparse type of a validation accuracy in (0, 1]: the rule of
    `comparison.check_threshold`, which checks `compare`'s argument."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:  # NaN fails both
        raise argparse.ArgumentTypeError(
            f"must be a number in (0, 1], got {shown(text)}"
        )
    return value


def _seed(text):
    """The argparse type of `--seed`: an integer in [0, 2**31), the seeds
    every backend takes (`limits.SEED_LIMIT`, which needs Keras)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(
            f"must be an integer in [0, 2**31), got {shown(text)}"
        )
    return value
