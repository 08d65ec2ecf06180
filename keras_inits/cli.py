"""The command line: `keras-inits compare | list | recommend`.

Also `python -m keras_inits ...`. Both import the package, and with it
Keras, before `main` runs; but `keras_inits.startup`, which the package
imports first, calls `prepare` before Keras loads: `--help` and usage
errors are answered without Keras, `--backend` sets `KERAS_BACKEND` (Keras
reads it once, when it loads), and TensorFlow's log lines are quieted. So
this module's top imports only the standard library and `constants`: the
parser, its defaults and its checks need no Keras. What does (an
activation's name, the initializers, the output folder, the backend that
runs) is checked in `main`, after the parse.
"""

import argparse
import contextlib
import importlib.util
import os
import sys
import tempfile
import textwrap

from keras_inits import constants

# Keras' backends; `--backend X` needs the module X installed.
BACKENDS = constants.BACKENDS
# TensorFlow's log lines the command line drops when the user has not set
# TF_CPP_MIN_LOG_LEVEL. TensorFlow 2.21 writes these while it loads (once
# per library that logs, so twice), before its logging reads that variable.
NOTICES = ("WARNING: All log messages before absl::InitializeLog() is "
           "called are written to STDERR",
           "] oneDNN custom operations are on.")


def _parser():
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's parser sets no `backend` of its own, which
    # would replace the one given before the subcommand with None.
    common.add_argument(
        "--backend", choices=BACKENDS, default=argparse.SUPPRESS,
        help="Keras backend to run on (default: KERAS_BACKEND, else Keras' "
             "configured one)")
    parser = argparse.ArgumentParser(
        prog="keras-inits", parents=[common],
        description="Weight initializers for Keras 3: compare them on real "
                    "data, list them, get a recommendation.")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{compare,list,recommend}")
    compare = commands.add_parser(
        "compare", parents=[common],
        help="train one network with several initializers and report",
        description="Trains the same MLP on scikit-learn's 8x8 digits with "
                    "each initializer, from several seeds, and writes "
                    "figures and reports into --output.")
    _compare_arguments(compare)
    commands.add_parser("list", parents=[common],
                        help="print the catalogue of initializers")
    recommend = commands.add_parser(
        "recommend", parents=[common],
        help="the recommended initializer for an activation")
    recommend.add_argument("activation", help="e.g. relu, tanh, selu")
    recommend.add_argument("--recurrent", action="store_true",
                           help="for the recurrent kernel of an RNN")
    return parser, {"compare": compare, "recommend": recommend}


def _compare_arguments(compare):
    c = constants
    compare.add_argument(
        "--initializers", default=", ".join(c.DEFAULT_INITIALIZERS),
        help="comma-separated names, with optional keyword arguments, e.g. "
             "'Zeros,HeUniform,RandomNormal(stddev=0.01)'; LSUV means "
             "Orthogonal followed by keras_inits.lsuv; the list command "
             "shows every name (default: %(default)s)")
    compare.add_argument(
        "--epochs", type=_count(c.MAX_EPOCHS), default=c.DEFAULT_EPOCHS,
        help=f"1 to {c.MAX_EPOCHS:,} (default: %(default)s)")
    compare.add_argument(
        "--depth", type=_count(c.MAX_DEPTH), default=c.DEFAULT_DEPTH,
        help=f"hidden layers, 1 to {c.MAX_DEPTH:,} (default: %(default)s)")
    compare.add_argument(
        "--width", type=_count(c.MAX_WIDTH), default=c.DEFAULT_WIDTH,
        help=f"units per hidden layer, 1 to {c.MAX_WIDTH:,}, and depth x "
             "width x width at most 2**27 (default: %(default)s)")
    compare.add_argument(
        "--activation", default=c.DEFAULT_ACTIVATION,
        help="Keras activation of the hidden layers (default: %(default)s)")
    compare.add_argument(
        "--seed", type=_seed, default=c.DEFAULT_SEED,
        help="the first seed, an integer in [0, 2**31); a run's seed drives "
             "its data split, weights and shuffling (default: %(default)s)")
    compare.add_argument(
        "--seeds", type=_count(c.MAX_SEEDS), default=c.DEFAULT_SEEDS,
        help="how many seeds each initializer is trained from (seed, "
             f"seed + 1, ...), 1 to {c.MAX_SEEDS} (default: %(default)s)")
    compare.add_argument(
        "--output", default=c.DEFAULT_OUTPUT,
        help="folder for the figures and reports, created if needed; in an "
             "existing folder those files are overwritten "
             "(default: %(default)s)")
    compare.add_argument(
        "--threshold", type=_threshold, default=c.DEFAULT_THRESHOLD,
        help="validation accuracy for 'epochs to reach', in (0, 1] "
             "(default: %(default)s)")
    compare.add_argument("--no-progress", action="store_true",
                         help="no progress bar")


def _shown(text):
    """`text` quoted for an error message, shortened past 60 characters
    (as `checks.shown`, which needs Keras)."""
    text = repr(text)
    return text if len(text) <= 60 else (
        f"{text[:30]}... ({len(text):,} characters)")


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
                f"{_shown(text)}")
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
            f"must be a number in (0, 1], got {_shown(text)}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(
            f"must be an integer in [0, 2**31), got {_shown(text)}")
    return value


def prepare(argv):
    """Readies this process, the command line's, before Keras loads.

    `keras_inits.startup` calls it, before the package imports Keras.
    Exits (as `main` would) for `--help` and usage errors; sets
    `KERAS_BACKEND` from `--backend`; and unless the user set
    `TF_CPP_MIN_LOG_LEVEL`, sets it to 2 and loads Keras (and its backend)
    with TensorFlow's notices dropped (`NOTICES`). Library users never get
    here: their `import keras_inits` changes nothing of their process.
    """
    parser, _ = _parser()
    arguments = parser.parse_args(argv)
    backend = getattr(arguments, "backend", None)
    if backend is not None:
        if importlib.util.find_spec(backend) is None:
            parser.error(f"argument --backend: {backend} is not installed "
                         f"(pip install \"keras-inits[{backend}]\")")
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
            for line in caught.read().decode(errors="replace").splitlines(
                    keepends=True):
                if not any(notice in line for notice in NOTICES):
                    sys.stderr.write(line)
            sys.stderr.flush()


def main(argv=None):
    """Runs the command line on `argv` (default: `sys.argv[1:]`); returns
    the exit status.

    Keras is loaded by then: with `--backend`, on that backend in the
    command line's process (see `prepare`); called from Python, `main`
    refuses a backend other than the one Keras runs on.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _parser()
    arguments = parser.parse_args(argv)
    _check_backend(getattr(arguments, "backend", None))
    if arguments.command == "compare":
        return _compare(arguments, commands["compare"])
    if arguments.command == "list":
        return _list()
    return _recommend(arguments, commands["recommend"])


def _check_backend(backend):
    import keras

    running = keras.backend.backend()
    if backend is not None and running != backend:
        sys.exit(
            f"keras-inits: error: Keras is already running on {running} in "
            f"this process and cannot switch to {backend}. Set "
            f"KERAS_BACKEND={backend} before Python imports Keras.")


def _error(parser, message):
    """Exits with status 2 and `message` on one line, as argparse does."""
    parser.error(" ".join(message.split()))


def _compare(arguments, parser):
    import keras

    from keras_inits import comparison
    from keras_inits import initializer_lists
    from keras_inits import networks
    from keras_inits import reports

    try:
        networks.check_activation("compare", arguments.activation)
    except ValueError:
        _error(parser, "argument --activation: must be a Keras activation "
                       f"(relu, tanh, gelu, ...), got "
                       f"{_shown(arguments.activation)}")
    # A misspelt name is reported whatever the backend, so the user can fix
    # every mistake in the command before choosing where to run it.
    try:
        entries = initializer_lists.parse_initializers(
            arguments.initializers)
    except initializer_lists.UnknownInitializerError as error:
        _error(parser, f"argument --initializers: {error}")
    problem = reports.output_problem(arguments.output)
    if problem:
        _error(parser, "argument --output: must be a folder compare can "
                       f"write in ({problem})")
    try:
        networks.check_mlp_size(  # 64: compare's batch size
            "compare", arguments.depth, arguments.width, comparison.INPUTS,
            64)
    except ValueError as error:
        _error(parser, f"arguments --depth and --width: {error}")
    if keras.backend.backend() not in comparison.TRAINABLE_BACKENDS:
        parser.error(
            f"the {keras.backend.backend()} backend cannot train (Keras has "
            "no fit for it): use --backend "
            f"{', '.join(comparison.TRAINABLE_BACKENDS)}")
    print(f"keras-inits compare on the {keras.backend.backend()} backend: "
          f"{len(entries)} initializers x {arguments.seeds} seeds x "
          f"{arguments.epochs} epochs, writing to {arguments.output}/",
          flush=True)
    try:
        runs = comparison.compare(
            arguments.initializers, epochs=arguments.epochs,
            depth=arguments.depth, width=arguments.width,
            activation=arguments.activation, seed=arguments.seed,
            seeds=arguments.seeds, output=arguments.output,
            threshold=arguments.threshold,
            progress=not arguments.no_progress)
    except ValueError as error:  # e.g. a convolution-only initializer
        _error(parser, str(error))
    print(reports.format_table(runs, arguments.threshold))
    print(f"Report: {os.path.join(arguments.output, 'report.md')}")
    return 0


def _list():
    import keras

    from keras_inits import initializer_lists
    from keras_inits import names

    # Every name `compare` takes (and lists when one is unknown): ours,
    # then the others (Keras' aliases, LSUV), each saying what it is.
    ours = names.our_classes()
    table = names.name_table()
    rows, others = [], []
    for name in initializer_lists.valid_names():
        if name in ours:
            family = ours[name].__module__.rsplit(".", 1)[-1]
            rows.append((name, family, _summary(ours[name])))
        elif name == initializer_lists.LSUV:
            others.append((name, "", "compare only: Orthogonal, then "
                                     "keras_inits.lsuv on training images"))
        else:
            cls = table[name][0]
            others.append((name, "", f"alias of {cls.__name__}"
                           if cls.__name__ != name
                           else f"Keras' own: {_summary(cls)}"))
    width = max(len(row[0]) for row in rows + others)
    family_width = max(len(row[1]) for row in rows)
    print(f"keras_inits initializers (Keras backend: "
          f"{keras.backend.backend()}); use them as 'keras_inits>Name':")
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
    from keras_inits.diagnostics import short_name
    from keras_inits.recommend import recommend

    try:
        found = recommend(arguments.activation,
                          recurrent=arguments.recurrent)
    except ValueError as error:
        _error(parser, str(error))
    print(short_name(found.initializer))
    print(textwrap.fill(found.reason, 79))
    return 0
