"""The recipes a test registers are gone after it: the registry is the
process's, and the command line's `recipes` lists every registered one."""

import pytest

from keras_inits.recipes import _registry


@pytest.fixture(autouse=True)
def _registry_as_it_was():
    before = dict(_registry._registry)
    yield
    _registry._registry.clear()
    _registry._registry.update(before)
