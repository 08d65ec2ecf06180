"""The command line: `keras-inits compare | list | recipes | recommend`, also
`python -m keras_inits ...`.

`main` runs it; `prepare` readies the command line's process before Keras
loads (`--help` and usage errors answered without Keras, `--backend` set),
and the package calls it first, in that process only. Nothing here imports
Keras until `main` runs a command.
"""

from keras_inits.cli._main import main
from keras_inits.cli._main import prepare

__all__ = ["main", "prepare"]
