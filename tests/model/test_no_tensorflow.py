"""Under JAX, PyTorch and NumPy, `reinitialize` (with and without a
recipe, measuring or not), `recipes.plan`, `describe` and `lsuv` never
import TensorFlow, which Keras' serialization would import on its first
question (4.4 to 4.9 s and about 480 MB; issue 27, item 7).

Each backend is checked in a child process of its own, where nothing else
imported TensorFlow first, once with the plain `reinitialize` as the
process' first call and once with the recipe's (each first call finds
its own lazy imports); the test runs once, in the JAX run of the suite.
"""

import ast
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest

pytestmark = [
    pytest.mark.skipif(
        keras.backend.backend() != "jax",
        reason="runs once, in the JAX run; the children pick their backends",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None,
        reason="TensorFlow is not installed: nothing could import it",
    ),
]

_CHILD = textwrap.dedent(
    """
    import sys

    import keras
    import numpy as np

    import keras_inits

    tokens = keras.Input((6,), dtype="int32")
    series = keras.Input((6, 8))
    x = keras.layers.Dense(8)(series) + keras.layers.Embedding(20, 8)(tokens)
    x = keras.layers.LayerNormalization()(x)
    x = keras.layers.MultiHeadAttention(2, 4)(x, x)
    x = keras.layers.LSTM(8, return_sequences=True)(x)
    x = keras.layers.Reshape((6, 8, 1))(x)
    x = keras.layers.Conv2D(3, 3, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    model = keras.Model([series, tokens], x)
    batch = [np.ones((4, 6, 8), "float32"), np.ones((4, 6), "int32")]

    steps = {
        "reinitialize": lambda: keras_inits.reinitialize(model, seed=1),
        "reinitialize gpt2": lambda: keras_inits.reinitialize(
            model, seed=1, recipe="gpt2"
        ),
    }
    imported = []  # (step, whether TensorFlow is imported after it)
    imported.append(("build", "tensorflow" in sys.modules))
    for step in sys.argv[1:]:  # the order the test asks for
        steps[step]()
        imported.append((step, "tensorflow" in sys.modules))
    keras_inits.reinitialize(model, seed=2, measure=False)
    imported.append(("measure=False", "tensorflow" in sys.modules))
    keras_inits.recipes.plan(model, "gpt2")
    imported.append(("recipes.plan", "tensorflow" in sys.modules))
    keras_inits.describe(model)
    imported.append(("describe", "tensorflow" in sys.modules))
    keras_inits.lsuv(model, batch, seed=1)
    imported.append(("lsuv", "tensorflow" in sys.modules))
    print(imported)
    """
)


FIRST_CALLS = [
    ("reinitialize", "reinitialize gpt2"),
    ("reinitialize gpt2", "reinitialize"),
]


@pytest.mark.parametrize(
    "first_calls", FIRST_CALLS, ids=["plain first", "recipe first"]
)
@pytest.mark.parametrize("backend", ["jax", "torch", "numpy"])
def test_no_tensorflow_is_imported_under_another_backend(backend, first_calls):
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # lsuv warns that it does not enter MultiHeadAttention and LSTM.
        "PYTHONWARNINGS": "ignore::UserWarning",
    }
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, *first_calls],
        env=env,
        cwd=Path(__file__).parents[2],  # this checkout's keras_inits
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    steps = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert steps == [
        (step, False)
        for step in (
            "build",
            *first_calls,
            "measure=False",
            "recipes.plan",
            "describe",
            "lsuv",
        )
    ]
