"""The installed wheel, used as a user would: .ci/package.sh runs this with
the python of a fresh venv the wheel was installed into, from a directory
outside the repository, so that nothing of the checkout can stand in for a
file the wheel lacks.

    python -I .ci/smoke.py VERSION CHECKOUT

VERSION is the wheel's version; CHECKOUT the repository, which the package
must not be imported from. Each check prints one line; the first failure
raises with what was found.
"""

import os
import pathlib
import subprocess
import sys
import tempfile

import keras
import numpy as np

import keras_inits

version, checkout = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
package = pathlib.Path(keras_inits.__file__).resolve()
venv = pathlib.Path(sys.prefix).resolve()
if not package.is_relative_to(venv) or package.is_relative_to(checkout):
    raise SystemExit(
        f"keras_inits was imported from {package}, not from the venv {venv}"
    )
print(f"ok imported from {package.parent}")
if keras_inits.__version__ != version:
    raise SystemExit(
        f"keras_inits.__version__ is {keras_inits.__version__!r}, the wheel "
        f"is {version!r}"
    )
print(
    f"ok __version__ {version}, Keras {keras.__version__} on "
    f"{keras.backend.backend()}"
)


def build():
    inputs = keras.Input((8,))
    outputs = keras.layers.Dense(4, kernel_initializer="keras_inits>HeNormal")(
        inputs
    )
    return keras.Model(inputs, outputs)


def weights(model):
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


model = build()
initializer = model.layers[-1].kernel_initializer
if not isinstance(initializer, keras_inits.HeNormal):
    raise SystemExit(f"Dense's kernel_initializer is {initializer!r}")
print("ok Dense(kernel_initializer='keras_inits>HeNormal') built")

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
reloaded = loaded.layers[-1].kernel_initializer
if not (
    type(reloaded) is type(initializer)
    and reloaded.get_config() == initializer.get_config()
):
    raise SystemExit(
        f"The initializer came back as {reloaded!r} with config "
        f"{reloaded.get_config()}, saved as {initializer.get_config()}"
    )
if not all(
    np.array_equal(a, b) for a, b in zip(weights(model), weights(loaded))
):
    raise SystemExit("The loaded model's weights differ from the saved ones")
print("ok model.save and keras.models.load_model: same weights and config")

before = weights(model)
keras_inits.reinitialize(model, seed=0)
if np.array_equal(before[0], weights(model)[0]):
    raise SystemExit("reinitialize(model, seed=0) left the kernel unchanged")
print("ok reinitialize(model, seed=0) redrew the kernel")

# The command line both ways: the module, and the console script the wheel
# installs beside this python.
script = pathlib.Path(sys.executable).parent / "keras-inits"
for command in (
    [sys.executable, "-m", "keras_inits", "--help"],
    [str(script), "--help"],
):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}"
        )
    print(f"ok {pathlib.Path(command[0]).name} {' '.join(command[1:])}")
