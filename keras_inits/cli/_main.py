"""The command line: `keras-inits compare | list | recipes | recommend`.

Also `python -m keras_inits ...`. Both import the package, and with it
Keras, before `main` runs; but `keras_inits._startup`, which the package
imports first, calls `prepare` before Keras loads: `--help` and usage
errors are answered without Keras, `--backend` sets `KERAS_BACKEND` (Keras
reads it once, when it loads), and TensorFlow's log lines are quieted. So
this module's top imports only the standard library and `_parser`: the
parser, its defaults and its checks need no Keras. What does (an
activation's name, the initializers and recipes, the output folder, the
backend that runs) is checked in `main`, after the parse.
"""

import contextlib
import importlib.util
import os
import sys
import tempfile
import textwrap

from keras_inits.cli import _parser

# TensorFlow's log lines the command line drops when the user has not set
# TF_CPP_MIN_LOG_LEVEL. TensorFlow 2.21 writes these while it loads (once
# per library that logs, so twice), before its logging reads that variable.
NOTICES = (
    "WARNING: All log messages before absl::InitializeLog() is "
    "called are written to STDERR",
    "] oneDNN custom operations are on.",
)


def prepare(argv: list[str]) -> None:
    """Readies this process, the command line's, before Keras loads.

    `keras_inits._startup` calls it, before the package imports Keras.
    Exits (as `main` would) for `--help` and usage errors; sets
    `KERAS_BACKEND` from `--backend`; and unless the user set
    `TF_CPP_MIN_LOG_LEVEL`, sets it to 2 and loads Keras (and its backend)
    with TensorFlow's notices dropped (`NOTICES`). Library users never get
    here: their `import keras_inits` changes nothing of their process.
    """
    parser, commands = _parser.build()
    arguments = parser.parse_args(argv)
    if arguments.command == "compare":
        _parser.resolve_model(commands["compare"], arguments)
    backend = getattr(arguments, "backend", None)
    if backend is not None:
        if importlib.util.find_spec(backend) is None:
            parser.error(
                f"argument --backend: {backend} is not installed "
                f'(pip install "keras-inits[{backend}]")'
            )
        os.environ["KERAS_BACKEND"] = backend
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # INFO and WARNING
        with _dropping_notices():
            import keras  # noqa: F401


@contextlib.contextmanager
def _dropping_notices():
    """Runs the block with file descriptor 2 (where C++ libraries write)
    caught, then writes what was caught to stderr, but for `NOTICES`."""
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
            for line in (
                caught.read()
                .decode(errors="replace")
                .splitlines(keepends=True)
            ):
                if not any(notice in line for notice in NOTICES):
                    sys.stderr.write(line)
            sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Runs the command line on `argv` (default: `sys.argv[1:]`); returns
    the exit status.

    Keras is loaded by then: with `--backend`, on that backend in the
    command line's process (see `prepare`); called from Python, `main`
    refuses a backend other than the one Keras runs on.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _parser.build()
    arguments = parser.parse_args(argv)
    if arguments.command == "compare":
        _parser.resolve_model(commands["compare"], arguments)
    _check_backend(getattr(arguments, "backend", None))
    if arguments.command == "compare" and arguments.model == "transformer":
        return _compare_recipes(arguments, commands["compare"])
    if arguments.command == "compare":
        return _compare(arguments, commands["compare"])
    if arguments.command == "list":
        return _list()
    if arguments.command == "recipes":
        return _recipes()
    return _recommend(arguments, commands["recommend"])


def _check_backend(backend):
    """Exits (status 1) when `--backend` asked for `backend` and Keras
    already runs on another: Keras reads `KERAS_BACKEND` once, when it
    loads, so `main` called from Python cannot switch."""
    import keras

    running = keras.backend.backend()
    if backend is not None and running != backend:
        sys.exit(
            f"keras-inits: error: Keras is already running on {running} in "
            f"this process and cannot switch to {backend}. Set "
            f"KERAS_BACKEND={backend} before Python imports Keras."
        )


def _error(parser, message):
    """Exits with status 2 and `message` on one line, as argparse does."""
    parser.error(" ".join(message.split()))


def _compare(arguments, parser):
    """Runs `compare --model mlp`: checks what the parse could not (the
    activation, the initializers, the output folder, the network's size, a
    backend that can train), each a usage error of `parser` (`compare`'s
    subparser), then trains and prints the table and the report's path.
    Returns 0."""
    import keras

    from keras_inits._internal import networks
    from keras_inits.experiments import INPUTS
    from keras_inits.experiments import TRAINABLE_BACKENDS
    from keras_inits.experiments import UnknownInitializerError
    from keras_inits.experiments import compare
    from keras_inits.experiments import format_table
    from keras_inits.experiments import output_problem
    from keras_inits.experiments import parse_initializers

    try:
        networks.check_activation("compare", arguments.activation)
    except ValueError:
        _error(
            parser,
            "argument --activation: must be a Keras activation "
            f"(relu, tanh, gelu, ...), got "
            f"{_parser.shown(arguments.activation)}",
        )
    # A misspelt name is reported whatever the backend, so the user can fix
    # every mistake in the command before choosing where to run it.
    try:
        entries = parse_initializers(arguments.initializers)
    except UnknownInitializerError as error:
        _error(parser, f"argument --initializers: {error}")
    problem = output_problem(arguments.output)
    if problem:
        _error(
            parser,
            "argument --output: must be a folder compare can "
            f"write in ({problem})",
        )
    try:
        networks.check_mlp_size(  # 64: compare's batch size
            "compare", arguments.depth, arguments.width, INPUTS, 64
        )
    except ValueError as error:
        _error(parser, f"arguments --depth and --width: {error}")
    if keras.backend.backend() not in TRAINABLE_BACKENDS:
        parser.error(
            f"the {keras.backend.backend()} backend cannot train (Keras has "
            "no fit for it): use --backend "
            f"{', '.join(TRAINABLE_BACKENDS)}"
        )
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
    """Runs `compare --model transformer`: checks the recipes, the output
    folder and that the backend can train, each a usage error of `parser`
    (`compare`'s subparser), then trains and prints the table and the
    report's path. Returns 0."""
    import keras

    from keras_inits.experiments import RECIPE_OUTPUTS
    from keras_inits.experiments import TRAINABLE_BACKENDS
    from keras_inits.experiments import compare_recipes
    from keras_inits.experiments import format_recipe_table
    from keras_inits.experiments import output_problem
    from keras_inits.experiments import read_recipes

    try:
        names = read_recipes(arguments.recipes)
    except ValueError as error:
        _error(parser, f"argument --recipes: {error}")
    problem = output_problem(arguments.output, RECIPE_OUTPUTS)
    if problem:
        _error(
            parser,
            "argument --output: must be a folder compare can "
            f"write in ({problem})",
        )
    if keras.backend.backend() not in TRAINABLE_BACKENDS:
        parser.error(
            f"the {keras.backend.backend()} backend cannot train (Keras has "
            f"no fit for it): use --backend "
            f"{', '.join(TRAINABLE_BACKENDS)}"
        )
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
    """Prints every recipe with its summary and source, then
    `defaults.NO_RECIPE` (each layer's own initializer), which `compare
    --model transformer` also takes. Returns 0."""
    from keras_inits import recipes
    from keras_inits._internal import defaults

    names = recipes.names()
    width = max(len(name) for name in names + [defaults.NO_RECIPE])
    print(
        "keras_inits recipes; use them as "
        "keras_inits.reinitialize(model, recipe=NAME) or with compare "
        "--model transformer --recipes NAME,...:"
    )
    for name in names:
        recipe = recipes.get(name)
        print(f"  {name:<{width}}  {recipe.summary}")
        if recipe.source:
            print(f"  {'':<{width}}  source: {recipe.source}")
    print("compare --model transformer also takes:")
    print(
        f"  {defaults.NO_RECIPE:<{width}}  no recipe: each layer's "
        "own Keras initializer"
    )
    return 0


def _list():
    """Prints keras_inits' initializers, each with its family and summary,
    then the other names `compare` and `keras_inits.get` take (Keras'
    aliases and own classes, LSUV). Returns 0."""
    import keras

    from keras_inits.experiments import LSUV
    from keras_inits.experiments import valid_names
    from keras_inits.initializers import name_table

    # Every name `compare` takes (and lists when one is unknown): ours,
    # then the others (Keras' aliases, LSUV), each saying what it is.
    table = name_table()
    ours = {
        canonical.split(">", 1)[1]: cls
        for cls, canonical in table.values()
        if canonical.startswith("keras_inits>")
    }
    rows = []  # keras_inits' initializers
    others = []  # the other names
    for name in valid_names():
        if name in ours:
            # The family is the private module's name: `_variance_scaling`.
            family = ours[name].__module__.rsplit(".", 1)[-1].lstrip("_")
            rows.append((name, family, _summary(ours[name])))
        elif name == LSUV:
            others.append(
                (
                    name,
                    "",
                    "compare only: Orthogonal, then "
                    "keras_inits.lsuv on training images",
                )
            )
        else:
            cls = table[name][0]
            others.append(
                (
                    name,
                    "",
                    f"alias of {cls.__name__}"
                    if cls.__name__ != name
                    else f"Keras' own: {_summary(cls)}",
                )
            )
    width = max(len(row[0]) for row in rows + others)
    family_width = max(len(row[1]) for row in rows)
    print(
        f"keras_inits initializers (Keras backend: "
        f"{keras.backend.backend()}); use them as 'keras_inits>Name':"
    )
    for name, family, summary in rows:
        print(f"  {name:<{width}}  {family:<{family_width}}  {summary}")
    if others:
        print("Other names keras_inits.get and compare take:")
    for name, _, summary in others:
        print(f"  {name:<{width}}  {summary}")
    return 0


def _summary(cls):
    """The first paragraph of `cls`' docstring, on one line."""
    import inspect

    paragraph = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0]
    return " ".join(paragraph.split())


def _recommend(arguments, parser):
    """Prints the initializer `recommend` gives for the activation (with
    `--recurrent`) and why; an unknown activation is a usage error of
    `parser`. Returns 0."""
    from keras_inits._internal.naming import short_name
    from keras_inits.initializers import recommend

    try:
        found = recommend(arguments.activation, recurrent=arguments.recurrent)
    except ValueError as error:
        _error(parser, str(error))
    print(short_name(found.initializer))
    print(textwrap.fill(found.reason, 79))
    return 0
