"""Tests of the WeightStats callback."""

import math

import keras
import numpy as np
import pytest

import keras_inits
from tests.catalogue import small_mlp as mlp

TRAINS = keras.backend.backend() != "numpy"


def test_weight_stats_verbose_must_be_a_bool():
    with pytest.raises(
        ValueError,
        match="Argument `verbose` of WeightStats "
        "must be True or False. Received: verbose='no'",
    ):
        keras_inits.WeightStats(verbose="no")


def test_weight_stats_records_initial_weights_and_series():
    model = mlp(keras_inits.Ones())
    stats = keras_inits.WeightStats(variables=lambda path: "hidden" in path)
    stats.set_model(model)
    stats.on_train_begin()
    assert stats.series("mean") == {
        "net/hidden/kernel": [1.0],
        "net/hidden/bias": [0.0],
    }
    assert math.isnan(stats.history[0]["gradient_norm"])
    assert "net/hidden/kernel" in stats.format(0)
    assert list(stats.to_dataframe().columns) == [
        "epoch",
        "path",
        "mean",
        "std",
        "min",
        "max",
        "gradient_norm",
    ]
    with pytest.raises(ValueError, match="Invalid `statistic` argument"):
        stats.series("median")


def test_weight_stats_errors():
    with pytest.raises(
        ValueError, match="Argument `variables` of WeightStats"
    ):
        keras_inits.WeightStats(variables="kernel")
    with pytest.raises(
        ValueError, match="Argument `gradient_data` of WeightStats"
    ):
        keras_inits.WeightStats(gradient_data=np.ones(3))


@pytest.mark.skipif(not TRAINS, reason="the NumPy backend cannot fit")
def test_weight_stats_during_fit_with_gradient_norms(capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 256)).astype("float32")
    y = rng.standard_normal((32, 10)).astype("float32")
    model = mlp(keras_inits.GlorotUniform(seed=0))
    model.compile(optimizer="sgd", loss="mse")
    stats = keras_inits.WeightStats(gradient_data=(x, y), verbose=True)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[stats])
    assert sorted({r["epoch"] for r in stats.history}) == [0, 1, 2]
    assert "net/out/kernel" in capsys.readouterr().out
    # The recorded std is the weights' own, epoch by epoch.
    final = keras.ops.convert_to_numpy(model.get_layer("out").kernel)
    assert stats.series("std")["net/out/kernel"][-1] == pytest.approx(
        float(final.astype(float).std()), rel=1e-9
    )
    # Gradient norm of the mse loss on the batch, checked against numpy:
    # for the output bias, d mean((p - y)^2) / db = 2 mean(p - y, axis=0)/10.
    p = keras.ops.convert_to_numpy(model(x)).astype(float)
    expected = np.linalg.norm(2 * (p - y).mean(axis=0) / 10)
    last = [
        r
        for r in stats.history
        if r["epoch"] == 2 and r["path"] == "net/out/bias"
    ][0]
    assert last["gradient_norm"] == pytest.approx(expected, rel=1e-4)
    assert stats.plot("gradient_norm").axes[0].get_ylabel() == "gradient norm"


def test_weight_stats_series_refuses_an_array():
    with pytest.raises(ValueError, match="Invalid `statistic` argument"):
        keras_inits.WeightStats().series(np.array(["std", "mean"]))
