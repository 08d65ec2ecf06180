"""Makes `keras` available to the docstring examples, as in Keras' own."""

import keras
import pytest


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["keras"] = keras
