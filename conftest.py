"""Makes `keras` available to the docstring examples, as in Keras' own, and
adds the warnings filter only the NumPy backend needs."""

import keras
import pytest

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
