"""The command line: `keras-inits compare | list | recommend`.

Also `python -m keras_inits ...`. `--backend` must take effect before Keras
loads, but importing this module has already imported `keras_inits` and
with it Keras. So `main` reads `--backend` first and, if Keras is loaded
with another backend, re-runs the process (`os.execve`) with
`KERAS_BACKEND` set: the new process imports Keras on the right backend.
"""

import argparse
import os
import sys
import textwrap

from keras_inits import checks

BACKENDS = ("tensorflow", "jax", "torch", "numpy")
# Set in the re-run process, so a backend that still does not take (a
# broken install) gives an error instead of an endless loop of re-runs.
_RERUN = "_KERAS_INITS_BACKEND_RERUN"


def _parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--backend", choices=BACKENDS,
        help="Keras backend to run on (default: KERAS_BACKEND, else Keras' "
             "configured one)")
    parser = argparse.ArgumentParser(
        prog="keras-inits", parents=[common],
        description="Weight initializers for Keras 3: compare them on real "
                    "data, list them, get a recommendation.")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{compare,list,recommend}")

    from keras_inits import comparison
    from keras_inits import networks

    compare = commands.add_parser(
        "compare", parents=[common],
        help="train one network with several initializers and report",
        description="Trains the same MLP on scikit-learn's 8x8 digits with "
                    "each initializer and writes curves.png, "
                    "signal_propagation.png, weights_at_init.png, report.md "
                    "and report.csv into --output.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    compare.add_argument(
        "--initializers", default=",".join(comparison.DEFAULT_INITIALIZERS),
        help="comma-separated names, with optional keyword arguments, e.g. "
             "'Zeros,HeUniform,RandomNormal(stddev=0.01)'; LSUV means "
             "Orthogonal followed by keras_inits.lsuv")
    compare.add_argument(
        "--epochs", type=_count(comparison.MAX_EPOCHS), default=15,
        help=f"1 to {comparison.MAX_EPOCHS:,}")
    compare.add_argument(
        "--depth", type=_count(networks.MAX_DEPTH), default=10,
        help=f"hidden layers, 1 to {networks.MAX_DEPTH:,}")
    compare.add_argument(
        "--width", type=_count(networks.MAX_WIDTH), default=64,
        help=f"units per hidden layer, 1 to {networks.MAX_WIDTH:,} (and "
             "depth x width x width at most 2**27)")
    compare.add_argument("--activation", type=_activation, default="relu",
                         help="Keras activation of the hidden layers")
    compare.add_argument("--seed", type=_seed, default=0,
                         help="an integer in [0, 2**31)")
    compare.add_argument(
        "--output", default="compare_output",
        help="folder for the figures and reports, created if needed; in an "
             "existing folder those five files are overwritten")
    compare.add_argument("--threshold", type=_threshold, default=0.9,
                         help="validation accuracy for 'epochs to reach', "
                              "in (0, 1]")
    compare.add_argument("--no-progress", action="store_true",
                         help="no progress bar")

    commands.add_parser("list", parents=[common],
                        help="print the catalogue of initializers")
    recommend = commands.add_parser(
        "recommend", parents=[common],
        help="the recommended initializer for an activation")
    recommend.add_argument("activation", help="e.g. relu, tanh, selu")
    recommend.add_argument("--recurrent", action="store_true",
                           help="for the recurrent kernel of an RNN")
    return parser, {"compare": compare, "recommend": recommend}


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
                f"{checks.shown(text, limit=60)}")
        return value

    return count


def _threshold(text):
    from keras_inits import comparison

    try:
        return comparison.check_threshold("compare", float(text))
    except ValueError:  # not a number, NaN, or out of (0, 1]
        raise argparse.ArgumentTypeError(
            "must be a number in (0, 1], got "
            f"{checks.shown(text, limit=60)}") from None


def _activation(text):
    from keras_inits import networks

    try:
        networks.check_activation("compare", text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a Keras activation (relu, tanh, gelu, ...), got "
            f"{checks.shown(text, limit=60)}") from None
    return text


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(
            "must be an integer in [0, 2**31), got "
            f"{checks.shown(text, limit=60)}")
    return value


def _requested_backend(argv):
    """`--backend X` or `--backend=X` anywhere in argv, else None."""
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return None


def _use_backend(backend, argv, from_command_line):
    """Makes `backend` Keras' backend, re-running the process if needed."""
    if backend not in BACKENDS:
        return  # argparse reports it with the valid choices
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = backend
        return
    import keras

    if keras.backend.backend() == backend:
        return
    if not from_command_line or os.environ.get(_RERUN):
        sys.exit(
            f"keras-inits: error: Keras is already running on "
            f"{keras.backend.backend()} in this process and cannot switch "
            f"to {backend}. Set KERAS_BACKEND={backend} before Python "
            "imports Keras.")
    sys.stdout.flush()
    sys.stderr.flush()
    env = {**os.environ, "KERAS_BACKEND": backend, _RERUN: "1"}
    os.execve(sys.executable,
              [sys.executable, "-m", "keras_inits", *argv], env)


def main(argv=None):
    """Runs the command line; returns the exit status.

    Called with `argv=None` (a real command line), `--backend` re-runs the
    process on that backend if Keras was loaded with another; called with
    a list (from Python), it refuses to, rather than replace the caller's
    process.
    """
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    _use_backend(_requested_backend(argv), argv, from_command_line)
    parser, commands = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "compare":
        return _compare(arguments, commands["compare"])
    if arguments.command == "list":
        return _list()
    return _recommend(arguments, commands["recommend"])


def _error(parser, message):
    """Exits with status 2 and `message` on one line, as argparse does."""
    parser.error(" ".join(message.split()))


def _compare(arguments, parser):
    import keras

    from keras_inits import comparison
    from keras_inits import initializer_lists
    from keras_inits import networks
    from keras_inits import reports

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
          f"{len(entries)} initializers x {arguments.epochs} epochs, "
          f"writing to {arguments.output}/", flush=True)
    try:
        runs = comparison.compare(
            arguments.initializers, epochs=arguments.epochs,
            depth=arguments.depth, width=arguments.width,
            activation=arguments.activation, seed=arguments.seed,
            output=arguments.output, threshold=arguments.threshold,
            progress=not arguments.no_progress)
    except ValueError as error:  # e.g. a convolution-only initializer
        _error(parser, str(error))
    print(reports.format_table(runs, arguments.threshold))
    print(f"Report: {os.path.join(arguments.output, 'report.md')}")
    return 0


def _list():
    import keras

    from keras_inits.names import our_classes

    classes = sorted(our_classes().items())
    width = max(len(name) for name, _ in classes)
    print(f"keras_inits initializers (Keras backend: "
          f"{keras.backend.backend()}); use them as 'keras_inits>Name':")
    for name, cls in classes:
        summary = (cls.__doc__ or "").strip().split("\n")[0]
        family = cls.__module__.rsplit(".", 1)[-1]
        print(f"  {name:<{width}}  {family:<22}{summary}")
    return 0


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
