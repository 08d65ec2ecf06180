"""The command line's first step, before Keras loads.

`python -m keras_inits ...` and the `keras-inits` script both import the
package first, and `keras_inits/__init__.py` imports every module, and with
them Keras: it must, since `import keras_inits` is what registers the
"keras_inits>Name" strings. But Keras reads `KERAS_BACKEND` once, when it
loads, and loading it takes seconds. So `__init__.py` imports this module
on its first line, and in the command line's process, and only there, it
calls `keras_inits.cli.prepare`: `--help`, usage errors, `list`, `recipes`
and `recommend` are answered without importing Keras at all, `--backend`
sets `KERAS_BACKEND`, and the backends' C++ log lines are quieted. A
program that imports keras_inits (including through
`python -m its_own_module`) is left alone.

It imports nothing but the standard library until it knows.
"""

import os
import sys

PACKAGE = "keras_inits"
SCRIPT = "keras-inits"  # [project.scripts] in pyproject.toml


def is_command_line(argv: list[str], orig_argv: list[str]) -> bool:
    """Whether the process with this `sys.argv` and `sys.orig_argv` is
    keras_inits' command line, while it imports the package.

    `python -m keras_inits`: while `-m` locates (imports) the module,
    `argv[0]` is "-m" (Python's documentation of `-m`), and `orig_argv`
    ends with the module's name, alone or in the option (`-mkeras_inits`),
    then the arguments `argv[1:]`. `-m keras_inits.cli` or `-m pytest`
    does not count. The script: `argv[0]` is its path.
    """
    if not argv:
        return False
    if argv[0] != "-m":
        name = os.path.basename(argv[0])
        return name == SCRIPT or name == SCRIPT + ".exe"
    if len(orig_argv) < len(argv):
        return False
    module = orig_argv[-len(argv)]  # the token before the arguments
    if module.startswith("-"):  # -mkeras_inits, -Imkeras_inits
        module = module[1:].partition("m")[2]
    return module == PACKAGE


if is_command_line(sys.argv, getattr(sys, "orig_argv", [])):
    from keras_inits.cli import prepare

    prepare(sys.argv[1:])
