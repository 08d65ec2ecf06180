"""Makes `keras` available to the docstring examples, as in Keras' own,
adds the warnings filter only the NumPy backend needs, and leaves the
recipe registry after each test (docstring examples included) as it was
before it."""

import keras
import pytest

from keras_inits.recipes import _registry

# Keras' NumPy backend infers a layer's output shape by calling it on
# `np.empty` arrays (`keras/src/backend/numpy/core.py`,
# `compute_output_spec`), uninitialized memory whose arithmetic warns at
# random ("invalid value encountered in matmul"). Every other warning is an
# error (`filterwarnings` in pyproject.toml); these, on that backend only,
# are ignored.
NUMPY_BACKEND_FILTERS = (
    "ignore:invalid value encountered:RuntimeWarning",
    "ignore:overflow encountered:RuntimeWarning",
    "ignore:divide by zero encountered:RuntimeWarning",
)


def pytest_collection_modifyitems(items):
    if keras.backend.backend() != "numpy":
        return
    for item in items:
        for spec in NUMPY_BACKEND_FILTERS:
            item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["keras"] = keras


@pytest.fixture(autouse=True)
def _recipe_registry_as_it_was():
    # The registry is the process's, and `recipes.names()` (the command
    # line's `recipes`, the keras-hub coverage table) lists every recipe
    # registered in it: one a test or a docstring example registers
    # (`recipes.register`'s does) must not reach the tests after it, which
    # pytest-xdist runs in an order of its own.
    before = dict(_registry._registry)
    yield
    _registry._registry.clear()
    _registry._registry.update(before)
