"""The command line: `keras-inits compare | list | recipes | recommend`, also
`python -m keras_inits ...`.

`main` runs it; `prepare` readies the command line's process before Keras
loads (`--help`, every usage error, `list`, `recipes` and `recommend`
answered without Keras, from static tables; `--backend` set), and the
package calls it first, in that process only. Nothing here imports Keras
but `compare`, once its arguments are checked.
"""

from keras_inits.cli._main import main
from keras_inits.cli._main import prepare

__all__ = ["main", "prepare"]
