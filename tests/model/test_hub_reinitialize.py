"""`reinitialize` on keras-hub backbones whose layers Keras cannot rebuild
from their configs: `ViTPatchingAndEmbedding.get_config` writes arguments
its constructor refuses, and `MixtralMoeExperts` has no config at all
(issue 27, item 4)."""

import keras
import numpy as np
import pytest

import keras_inits

keras_hub = pytest.importorskip("keras_hub")
from tests.recipes import hub_backbones  # noqa: E402 (needs keras_hub)

# keras-hub builds: once, on TensorFlow.
pytestmark = pytest.mark.e2e


# The small configs of keras-hub's own unit tests (`tests/recipes/
# hub_backbones.py` cites them).
def _vit():
    return hub_backbones.build("ViTBackbone")


def _mixtral():
    return hub_backbones.build("MixtralBackbone")


def _values(model):
    return [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]


def _spoil(model):
    """Sets every weight to 7, so that each one re-drawn is seen."""
    for v in model.weights:
        v.assign(keras.ops.full(v.shape, 7, v.dtype))


@pytest.mark.parametrize("make", [_vit, _mixtral], ids=["vit", "mixtral"])
def test_a_hub_backbone_is_reinitialized_from_its_own_initializers(make):
    model = make()
    paths = [v.path for v in model.weights]
    _spoil(model)
    report = keras_inits.reinitialize(model, seed=1)
    assert len({row.key for row in report}) == len(model.weights) > 0
    assert not report.skipped
    first = _values(model)
    for path, values in zip(paths, first):
        assert not np.all(values == 7), path
    _spoil(model)
    keras_inits.reinitialize(model, seed=1)
    for path, a, b in zip(paths, first, _values(model)):
        np.testing.assert_array_equal(a, b, err_msg=path)


def test_the_vit_class_token_is_drawn_from_what_its_build_names():
    # Its `build` passes "random_normal", held by no attribute: the twin
    # made from the layer's attributes finds it.
    model = _vit()
    report = keras_inits.reinitialize(model, seed=1)
    (row,) = [r for r in report if r.path.endswith("class_token")]
    assert row.initializer.startswith("RandomNormal(")
