"""The command line: `keras-inits compare | list | recipes | recommend`.

Also `python -m keras_inits ...`. Both import the package, and with it
Keras, before `main` runs; but `keras_inits._startup`, which the package
imports first, calls `prepare` before Keras loads. `prepare` answers
`--help`, every usage error, and the commands that print tables (`list`,
`recipes`, `recommend`, from `_static`) without importing Keras; for
`compare` it sets `KERAS_BACKEND` from `--backend` (Keras reads it once,
when it loads) and quiets TensorFlow's log lines. So this module's top
imports only the standard library and this folder's Keras-free modules:
the parser, its checks (`_checks`) and the tables (`_static`). Only
`compare` imports Keras, in `main`, once every check has passed.
"""

import contextlib
import difflib
import importlib.util
import os
import sys
import tempfile
import textwrap

from keras_inits._internal import before_keras
from keras_inits._internal import defaults
from keras_inits.cli import _checks
from keras_inits.cli import _parser
from keras_inits.cli import _static

# TensorFlow's log lines the command line drops when the user has not set
# TF_CPP_MIN_LOG_LEVEL. TensorFlow 2.21 writes these while it loads (once
# per library that logs, so twice), before its logging reads that variable;
# the full wheel (the `tensorflow` extra), built with CUDA, adds the third
# on a machine without a GPU.
NOTICES = (
    "WARNING: All log messages before absl::InitializeLog() is "
    "called are written to STDERR",
    "] oneDNN custom operations are on.",
    "] Could not find cuda drivers on your machine, GPU will not be used.",
)
# The full wheel's error when it first looks for devices on a machine
# without a GPU. Dropped only after the notice that no CUDA driver is
# installed: with a driver, a failed cuInit is news, and is shown.
NO_DRIVER = NOTICES[-1]
NO_DRIVER_ERROR = "] failed call to cuInit: "


def prepare(argv: list[str]) -> None:
    """Readies this process, the command line's, before Keras loads.

    `keras_inits._startup` calls it, before the package imports Keras.
    Exits (as `main` would) for `--help`, every usage error, and `list`,
    `recipes` and `recommend`, which it answers from static tables: none
    of them imports Keras. For `compare`, sets `KERAS_BACKEND` from
    `--backend`; and unless the user set `TF_CPP_MIN_LOG_LEVEL`, sets it
    to 2 and loads Keras (and its backend, whose devices TensorFlow then
    looks for) with TensorFlow's notices dropped (`NOTICES`). Library
    users never get here: their `import keras_inits` changes nothing of
    their process.
    """
    arguments = _parsed(argv)
    if arguments.command != "compare":
        sys.exit(_answer(arguments))
    backend = getattr(arguments, "backend", None)
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # INFO and WARNING
        with _dropping_notices():
            import keras

            if keras.backend.backend() == "tensorflow":
                # TensorFlow looks for devices at its first operation; done
                # here, its lines are caught with the import's.
                import tensorflow as tf

                tf.config.list_physical_devices()


@contextlib.contextmanager
def _dropping_notices():
    """Runs the block with file descriptor 2 (where C++ libraries write)
    caught, then writes what was caught to stderr, but for `NOTICES` and,
    where TensorFlow found no CUDA driver, its failed cuInit."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode(errors="replace")
            no_driver = NO_DRIVER in lines
            for line in lines.splitlines(keepends=True):
                if any(notice in line for notice in NOTICES):
                    continue
                if no_driver and NO_DRIVER_ERROR in line:
                    continue
                sys.stderr.write(line)
            sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Runs the command line on `argv` (default: `sys.argv[1:]`); returns
    the exit status.

    Every usage error, and `list`, `recipes` and `recommend`, are answered
    without Keras (see `prepare`). `compare` runs on the backend Keras
    loaded: with `--backend`, that one in the command line's process;
    called from Python, `main` refuses a backend other than the one Keras
    runs on.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = _parsed(argv)
    if arguments.command != "compare":
        return _answer(arguments)
    if arguments.model == "transformer":
        return _compare_recipes(arguments, arguments.command_parser)
    return _compare(arguments, arguments.command_parser)


def _parsed(argv):
    """The parsed `argv`, with `command_parser` (the parser whose errors
    name the command) and `runs_on` (the backend a command runs on), once
    every check that needs no Keras has passed; a mistake exits with
    status 2 and one line."""
    parser, commands = _parser.build()
    arguments = parser.parse_args(argv)
    arguments.command_parser = commands.get(arguments.command, parser)
    if arguments.command == "compare":
        _parser.resolve_model(commands["compare"], arguments)
    backend = getattr(arguments, "backend", None)
    if backend is not None and importlib.util.find_spec(backend) is None:
        parser.error(
            f"argument --backend: {backend} is not installed "
            f'(pip install "keras-inits[{backend}]")'
        )
    arguments.runs_on = _runs_on(backend)
    if arguments.command == "compare":
        _check_compare(arguments, commands["compare"])
    if arguments.command == "recommend":
        known = tuple(_static.RECOMMENDATIONS)
        _check_activation(
            commands["recommend"],
            "activation",
            arguments.activation,
            known,
            f"an activation recommend knows ({', '.join(known)})",
            fold_case=True,  # as `recommend`
        )
    return arguments


def _runs_on(backend):
    """The backend a command runs on: Keras' when Keras is loaded (`main`
    called from Python), which cannot switch (then exits, status 1, when
    `--backend` asked for `backend`, another); else `backend`, or the one
    Keras will load with (`KERAS_BACKEND`, `keras.json`)."""
    keras = sys.modules.get("keras")
    if keras is None:
        return backend or _checks.configured_backend()
    running = keras.backend.backend()
    if backend is not None and running != backend:
        sys.exit(
            f"keras-inits: error: Keras is already running on {running} in "
            f"this process and cannot switch to {backend}. Set "
            f"KERAS_BACKEND={backend} before Python imports Keras."
        )
    return running


def _check_compare(arguments, parser):
    """The usage errors of `compare` (its subparser `parser`) that the
    parse does not find, from the static tables and the file system: the
    activation, the initializers or recipes, the output folder, the MLP's
    size, and a backend that can train and is installed."""
    if arguments.model == "mlp":
        _check_activation(
            parser,
            "--activation",
            arguments.activation,
            _static.ACTIVATIONS,
            "a Keras activation (relu, tanh, gelu, ...)",
        )
        try:
            entries = _checks.check_initializers(arguments.initializers)
        except ValueError as error:
            _error(parser, f"argument --initializers: {error}")
        problem = _checks.repeated_initializers(
            arguments.initializers, entries
        )
        if problem:
            _error(parser, problem)
        refused = _checks.convolution_only(entries)
        if refused:
            _error(
                parser,
                f"argument --initializers: {', '.join(refused)} "
                f"{'fills' if len(refused) == 1 else 'fill'} only "
                "convolution kernels (a tensor of rank 3 or more), not the "
                "Dense kernels of the MLP compare trains",
            )
        outputs = defaults.MLP_OUTPUTS
    else:
        try:
            _checks.check_recipes(arguments.recipes)
        except ValueError as error:
            _error(parser, f"argument --recipes: {error}")
        outputs = defaults.RECIPE_OUTPUTS
    problem = before_keras.output_problem(arguments.output, outputs)
    if problem:
        _error(
            parser,
            "argument --output: must be a folder compare can "
            f"write in ({problem})",
        )
    if arguments.model == "mlp":
        problem = before_keras.mlp_size_problem(
            "compare",
            arguments.depth,
            arguments.width,
            defaults.INPUTS,
            defaults.BATCH_SIZE,
        )
        if problem:
            _error(parser, f"arguments --depth and --width: {problem}")
    if arguments.runs_on not in defaults.TRAINABLE_BACKENDS:
        parser.error(
            f"the {arguments.runs_on} backend cannot train (Keras has no fit "
            f"for it): use --backend {', '.join(defaults.TRAINABLE_BACKENDS)}"
        )
    if "keras" not in sys.modules and (
        importlib.util.find_spec(arguments.runs_on) is None
    ):
        parser.error(
            f"Keras' backend {arguments.runs_on} (from KERAS_BACKEND or "
            "keras.json) is not installed: use --backend "
            f"{', '.join(defaults.TRAINABLE_BACKENDS)}"
        )


def _check_activation(
    parser, argument, activation, known, requirement, fold_case=False
):
    """Exits with a usage error of `parser` unless `activation` (with
    `fold_case`, lowercased) is one of `known`: `argument` must be
    `requirement`, with the closest name."""
    name = activation.lower() if fold_case else activation
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1)
    hint = f". Did you mean {close[0]!r}?" if close else ""
    _error(
        parser,
        f"argument {argument}: must be {requirement}, got "
        f"{_parser.shown(activation)}{hint}",
    )


def _answer(arguments):
    """Runs `list`, `recipes` or `recommend`, from the static tables.
    Returns 0."""
    if arguments.command == "list":
        return _list(arguments.runs_on)
    if arguments.command == "recipes":
        return _recipes()
    return _recommend(arguments)


def _error(parser, message):
    """Exits with status 2 and `message` on one line, as argparse does."""
    parser.error(" ".join(message.split()))


def _compare(arguments, parser):
    """Runs `compare --model mlp`, whose arguments `_parsed` checked: makes
    the initializers (an argument value their constructor refuses is a
    usage error of `parser`, `compare`'s subparser), trains, and prints
    the table and the report's path. Returns 0."""
    import keras

    from keras_inits.experiments import UnknownInitializerError
    from keras_inits.experiments import compare
    from keras_inits.experiments import format_table
    from keras_inits.experiments import parse_initializers

    try:
        entries = parse_initializers(arguments.initializers)
    except UnknownInitializerError as error:
        _error(parser, f"argument --initializers: {error}")
    print(
        f"keras-inits compare on the {keras.backend.backend()} backend: "
        f"{len(entries)} initializers x {arguments.seeds} seeds x "
        f"{arguments.epochs} epochs, writing to {arguments.output}/",
        flush=True,
    )
    try:
        runs = compare(
            arguments.initializers,
            epochs=arguments.epochs,
            depth=arguments.depth,
            width=arguments.width,
            activation=arguments.activation,
            seed=arguments.seed,
            seeds=arguments.seeds,
            output=arguments.output,
            threshold=arguments.threshold,
            progress=not arguments.no_progress,
        )
    except ValueError as error:  # e.g. a convolution-only initializer
        _error(parser, str(error))
    print(format_table(runs, arguments.threshold))
    print(f"Report: {os.path.join(arguments.output, 'report.md')}")
    return 0


def _compare_recipes(arguments, parser):
    """Runs `compare --model transformer`, whose arguments `_parsed`
    checked: trains with each recipe and prints the table and the
    report's path; a recipe that cannot initialize the model is a usage
    error of `parser` (`compare`'s subparser). Returns 0."""
    import keras

    from keras_inits.experiments import compare_recipes
    from keras_inits.experiments import format_recipe_table
    from keras_inits.experiments import read_recipes

    try:
        names = read_recipes(arguments.recipes)
    except ValueError as error:
        _error(parser, f"argument --recipes: {error}")
    print(
        f"keras-inits compare --model transformer on the "
        f"{keras.backend.backend()} backend: {len(names)} recipes x "
        f"{arguments.seeds} seeds x {arguments.steps} steps, writing to "
        f"{arguments.output}/",
        flush=True,
    )
    try:
        found = compare_recipes(
            list(names),
            steps=arguments.steps,
            evaluations=arguments.evaluations,
            depth=arguments.depth,
            width=arguments.width,
            seed=arguments.seed,
            seeds=arguments.seeds,
            output=arguments.output,
            progress=not arguments.no_progress,
        )
    except ValueError as error:  # e.g. a recipe that cannot initialize
        _error(parser, str(error))
    print(
        format_recipe_table(
            found,
            dict(steps=arguments.steps, evaluations=arguments.evaluations),
        )
    )
    print(f"Report: {os.path.join(arguments.output, 'report.md')}")
    return 0


def _recipes():
    """Prints every built-in recipe with its summary and source, then
    `_checks.NO_RECIPE` (each layer's own initializer), which `compare
    --model transformer` also takes. Returns 0."""
    names = [name for name, _, _ in _static.RECIPES]
    width = max(len(name) for name in names + [_checks.NO_RECIPE])
    print(
        "keras_inits recipes; use them as "
        "keras_inits.reinitialize(model, recipe=NAME) or with compare "
        "--model transformer --recipes NAME,...:"
    )
    for name, summary, source in _static.RECIPES:
        print(f"  {name:<{width}}  {summary}")
        if source:
            print(f"  {'':<{width}}  source: {source}")
    print("compare --model transformer also takes:")
    print(
        f"  {_checks.NO_RECIPE:<{width}}  no recipe: each layer's "
        "own Keras initializer"
    )
    return 0


def _list(backend):
    """Prints keras_inits' initializers, each with its family and summary,
    then the other names `compare` and `keras_inits.get` take (Keras'
    aliases and own classes, LSUV), with the Keras `backend` a command
    runs on. Returns 0."""
    rows = _static.INITIALIZERS
    others = _static.OTHER_NAMES
    width = max(len(row[0]) for row in rows + others)
    family_width = max(len(row[1]) for row in rows)
    print(
        f"keras_inits initializers (Keras backend: {backend}); use them "
        "as 'keras_inits>Name':"
    )
    for name, family, summary in rows:
        print(f"  {name:<{width}}  {family:<{family_width}}  {summary}")
    if others:
        print("Other names keras_inits.get and compare take:")
    for name, summary in others:
        print(f"  {name:<{width}}  {summary}")
    return 0


def _recommend(arguments):
    """Prints the initializer `recommend` gives for the activation, which
    `_parsed` checked (with `--recurrent`), and why. Returns 0."""
    if arguments.recurrent:
        initializer, reason = _static.RECURRENT
    else:
        initializer, reason = _static.RECOMMENDATIONS[
            arguments.activation.lower()
        ]
    print(initializer)
    print(textwrap.fill(reason, 79))
    return 0
