"""Tests of portable seeds: the generator, its transforms, golden values,
serialization, `set_portable`, `reinitialize(portable=True)`, and the
cross-backend check that draws every random initializer on each backend in
its own process and compares the values bit for bit."""

import hashlib
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from scipy import stats

import keras_inits
from keras_inits.random import _samplers as samplers
from keras_inits.random._seeds import derive_seed
from tests.catalogue import RANDOM_CASES

# Initializers whose values pass through a QR decomposition: the same
# Gaussian matrix everywhere, then each backend's own float32 QR. Measured
# differences are below 1e-6 at the catalogue shapes; 1e-5 leaves margin.
QR_BASED = {"Orthogonal", "DeltaOrthogonal", "BlockOrthogonal"}
QR_ATOL = 1e-5

# SHA-256 of the float32 bytes of `case.make(PortableSeed(1))(case.shape)`,
# the same on every backend. A change of generator, transform, table or
# draw order changes them: that is a break of the portable guarantee and
# needs a CHANGELOG entry. New random initializers add their row here;
# print the rows with `python tests/test_portable.py`.
GOLDEN_DIGESTS = {
    "RandomNormal": "6bb6b229d3431b99c3b7c4a91069e32af5b294a71c8fd7de00c1372eda877783",
    "RandomUniform": "4aac952cbd0fc9f24f6027b376061782b75da22a6ae94c8ef5061a3ccf09f58e",
    "TruncatedNormal": "1b46d5a5cc387dcdf471f05ad59e0f819179dbf76f1d74e73dab9d330ba4e170",
    "VarianceScaling": "655cca55883a57fd0ad63231f914941d66b65174f41fd6cc858970740c983c63",
    "GlorotNormal": "b07c88619bec81b50fbcd12fc7b95ff04f9be005d46683792df41f330e73893f",
    "GlorotUniform": "a757905a8996f7fd55c07edf51188bc58a8872e7bf2bc0276f158e1ee6f3837a",
    "HeNormal": "941b3eb4984e0ff32afab48ccbe8801c88798486f0843b76f2a404e27ab7dbb8",
    "HeUniform": "da8bebbfe07c299996d2245e438163fcbd24e158d3720b194b0a9d1edbcb91e4",
    "LecunNormal": "9e2871827986f1393751f84116d836ab6fb2cfda81168991e704aa6d908c8714",
    "LecunUniform": "43a227e46127dbf9c0c439b9f4dae2ef6575233f1f0c2a87ad9dc7ec474f58bc",
    "KaimingNormal": "ad9a619719ab2f3fa41667374f477f4890cebcb7ae563fd346f1738a430e6a01",
    "KaimingUniform": "b72012b99f5c6f4ddc94d16d1433be2317d32638df2b70f352520b6ca6360a53",
    "ClippedNormal": "839859f4b5849cfd1a620323d8075186f8e892a5654b80242319c45cdd82330a",
    "Sparse": "1b48c875075c4cb37abced36679779b2519b376e0d4a04cab4d3928ba046dbaa",
    "TruncatedNormalRange": "6c5ec82c27386c3a12684c729da253b3d82301a2db3ac9b0f49f386f9c9ddd54",
    "TruncatedNormalSigmas": "8d2f9e34934525b3fafb05a82e5bf14a183d49703480b50f2b3e20e3355fb4e6",
}
# The QR_BASED ones: their first three non-zero values, within QR_ATOL.
GOLDEN_QR = {
    "Orthogonal": [
        -0.1164926216006279,
        -0.159012570977211,
        0.21094831824302673,
    ],
    "DeltaOrthogonal": [
        -0.13740617036819458,
        -0.1527683287858963,
        -0.05499638617038727,
    ],
    "BlockOrthogonal": [
        -0.2624824345111847,
        -0.35328832268714905,
        0.4873921275138855,
    ],
}


def draw(case, seed=1):
    init = case.make(keras_inits.PortableSeed(seed))
    return keras.ops.convert_to_numpy(init(case.shape, dtype="float32"))


def digest(values):
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


@pytest.fixture
def portable_mode():
    keras_inits.set_portable(True)
    try:
        yield
    finally:
        keras_inits.set_portable(False)


# Every random initializer, portable.


@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_initializer_is_golden(case):
    values = draw(case)
    if case.name in QR_BASED:
        first = values.ravel()[np.flatnonzero(values.ravel())[:3]]
        np.testing.assert_allclose(
            first, GOLDEN_QR[case.name], rtol=0, atol=QR_ATOL
        )
    else:
        assert case.name in GOLDEN_DIGESTS, (
            f"{case.name} has no golden digest: add it to GOLDEN_DIGESTS"
        )
        assert digest(values) == GOLDEN_DIGESTS[case.name]


# SHA-256 of the float32 bytes of draws larger than the catalogue's, of
# 3 * (2**16 + 3) values: an odd count, across the first boundary of the
# steps NumPy and PyTorch fill in place (2**16 blocks of two values) and
# within a chunk elsewhere. Recorded with the generator before the steps
# (keras_inits 0.1.0's chunks): the steps must not change a value.
GOLDEN_LARGE = {
    "uniform": "90f276cded29ca095771da38a8ab18b3e0e90e97fd010d80401bd785182e449a",
    "normal": "7084a104a895e87ae8a859c2303a9dfaaf600afcbb235288df710b6b56be53c9",
    "truncated_normal": "c62f8c3efc19427c7d4a29330c737411a86a7bfad233181fd8835bef0bb1122c",
}


def test_large_draws_are_golden():
    # Control: passes before the in-place steps too (that is its point).
    shape, seed = (3, 2**16 + 3), keras_inits.PortableSeed
    draws = {
        "uniform": samplers.uniform(shape, 0.1, 0.3, "float32", seed(1)),
        "normal": samplers.normal(shape, 0.5, 2.0, "float32", seed(1)),
        "truncated_normal": samplers.truncated_normal(
            shape, 0.0, 1.0, "float32", seed(1)
        ),
    }
    digests = {
        name: digest(keras.ops.convert_to_numpy(values))
        for name, values in draws.items()
    }
    assert digests == GOLDEN_LARGE


@pytest.mark.parametrize(
    "case", [c for c in RANDOM_CASES if c.dist is not None], ids=repr
)
def test_portable_statistics(case):
    # The values are the same on every backend, so this p-value is fixed
    # (all above 0.01 at seed 1): the test can fail only if a change breaks
    # the distribution, never by chance.
    values = draw(case).astype("float64").ravel()
    assert stats.kstest(values, case.dist(case.shape).cdf).pvalue > 1e-3


@pytest.mark.parametrize("case", RANDOM_CASES, ids=repr)
def test_each_call_draws_anew_and_config_replays(case):
    init = case.make(keras_inits.PortableSeed(3))
    first = keras.ops.convert_to_numpy(init(case.shape))
    second = keras.ops.convert_to_numpy(init(case.shape))
    assert not np.array_equal(first, second)
    config = json.loads(json.dumps(keras.initializers.serialize(init)))
    assert config["config"]["seed"]["class_name"] == "PortableSeed"
    again = keras.initializers.deserialize(config)
    assert again.seed == keras_inits.PortableSeed(3)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(again(case.shape)), first
    )


def test_low_precision_dtypes_hold_the_float32_values():
    init = keras_inits.HeNormal(seed=keras_inits.PortableSeed(2))
    full = keras.ops.convert_to_numpy(init((64, 32), dtype="float32"))
    init = keras_inits.HeNormal(seed=keras_inits.PortableSeed(2))
    half = keras.ops.convert_to_numpy(init((64, 32), dtype="float16"))
    np.testing.assert_array_equal(half, full.astype("float16"))


def test_uniform_with_an_offset_stays_in_bounds():
    values = keras.ops.convert_to_numpy(
        keras_inits.RandomUniform(0.1, 0.3, seed=keras_inits.PortableSeed(0))(
            (100_000,)
        )
    )
    assert values.min() >= np.float32(0.1) and values.max() <= np.float32(0.3)
    assert stats.kstest(values, stats.uniform(0.1, 0.2).cdf).pvalue > 1e-3


def test_saved_model_keeps_portable_seeds(tmp_path):
    init = keras_inits.HeNormal(seed=keras_inits.PortableSeed(4))
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4, kernel_initializer=init)]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    seed = loaded.layers[0].kernel_initializer.seed
    assert seed == keras_inits.PortableSeed(4)


# set_portable and reinitialize.


def test_set_portable_makes_int_and_none_seeds_portable(portable_mode):
    assert keras_inits.is_portable()
    assert keras_inits.GlorotUniform(seed=5).seed == keras_inits.PortableSeed(
        5
    )
    assert keras_inits.GlorotUniform().seed == keras_inits.PortableSeed(None)
    generator = keras.random.SeedGenerator(1)
    assert keras_inits.GlorotUniform(seed=generator).seed is generator
    keras.utils.set_random_seed(11)
    a = keras.ops.convert_to_numpy(keras_inits.GlorotUniform()((4, 4)))
    keras.utils.set_random_seed(11)
    b = keras.ops.convert_to_numpy(keras_inits.GlorotUniform()((4, 4)))
    np.testing.assert_array_equal(a, b)


def test_portable_is_off_by_default():
    assert not keras_inits.is_portable()
    assert keras_inits.GlorotUniform(seed=5).seed == 5


def keras_default_model():
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, name="hidden"),
            keras.layers.Dense(3, name="out"),
        ],
        name="m",
    )


def test_reinitialize_portable_swaps_keras_initializers():
    model = keras_default_model()
    keras_inits.reinitialize(model, seed=9, portable=True)
    # The seed key: the layer's name below the model, then the variable's.
    expected = keras_inits.GlorotUniform(
        seed=keras_inits.PortableSeed(derive_seed(9, "hidden/kernel"))
    )((6, 5))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model.get_layer("hidden").kernel),
        keras.ops.convert_to_numpy(expected),
    )


def test_reinitialize_keeps_saved_portable_seeds():
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(
                5,
                kernel_initializer=keras_inits.HeNormal(
                    seed=keras_inits.PortableSeed(1)
                ),
            ),
        ],
        name="m",
    )
    keras_inits.reinitialize(model, seed=9)
    kernel = model.layers[0].kernel  # an auto-named Dense: key "dense/kernel"
    expected = keras_inits.HeNormal(
        seed=keras_inits.PortableSeed(derive_seed(9, "dense/kernel"))
    )((6, 5))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(kernel),
        keras.ops.convert_to_numpy(expected),
    )


# Bad arguments.


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "1", True])
def test_bad_portable_seed_is_refused(seed):
    with pytest.raises(
        ValueError,
        match=r"Argument `seed` of PortableSeed "
        r"must be None or an integer in \[0, 2\*\*32\)\. ",
    ):
        keras_inits.PortableSeed(seed)


def test_bad_set_portable_is_refused():
    with pytest.raises(
        ValueError,
        match=r"Argument `enabled` of "
        r"set_portable must be True or False\. ",
    ):
        keras_inits.set_portable(1)


def test_bad_reinitialize_portable_is_refused():
    with pytest.raises(
        ValueError,
        match=r"Argument `portable` of "
        r"reinitialize must be None, True or False\. ",
    ):
        keras_inits.reinitialize(keras_default_model(), portable="yes")


def test_saved_seed_of_another_class_is_refused():
    config = keras.saving.serialize_keras_object(keras_inits.Zeros())
    with pytest.raises(
        ValueError,
        match=r"Argument `seed` of HeNormal must "
        r"be a saved PortableSeed\. ",
    ):
        keras_inits.HeNormal(seed=config)


# Across backends, each in its own process.

BACKENDS = ("numpy", "jax", "tensorflow", "torch")


def worker(out, model_path):
    """Run in a subprocess: every random initializer's portable draw, and
    the weights of `model_path` after `reinitialize`, into `out`."""
    arrays = {f"case/{case.name}": draw(case) for case in RANDOM_CASES}
    # Large enough for the compiled path of JAX and TensorFlow.
    arrays["large/normal"] = keras.ops.convert_to_numpy(
        samplers.normal(
            (2**17,), 0.0, 1.0, "float32", keras_inits.PortableSeed(1)
        )
    )
    model = keras.saving.load_model(model_path)
    keras_inits.reinitialize(model, seed=21)
    defaults = keras_default_model()
    keras_inits.reinitialize(defaults, seed=21, portable=True)
    for name, m in (("saved", model), ("defaults", defaults)):
        for v in m.weights:
            arrays[f"{name}/{v.path}"] = keras.ops.convert_to_numpy(v)
    np.savez(out, **arrays)


@pytest.mark.skipif(
    keras.backend.backend() != "numpy",
    reason="backend-independent: runs once per CI run, in the numpy job",
)
def test_same_values_on_every_backend(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(
                16,
                kernel_initializer=keras_inits.HeNormal(
                    seed=keras_inits.PortableSeed(1)
                ),
                name="a",
            ),
            keras.layers.Dense(
                4,
                kernel_initializer=keras_inits.Orthogonal(
                    seed=keras_inits.PortableSeed(2)
                ),
                name="b",
            ),
        ],
        name="saved",
    )
    model.save(tmp_path / "model.keras")
    root = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    processes = {
        backend: subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tests.random.test_portable "
                "import worker; worker(sys.argv[1], sys.argv[2])",
                str(tmp_path / f"{backend}.npz"),
                str(tmp_path / "model.keras"),
            ],
            cwd=root,
            env={
                **os.environ,
                "KERAS_BACKEND": backend,
                "PYTHONPATH": root,
                "CUDA_VISIBLE_DEVICES": "",
                "OMP_NUM_THREADS": "1",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for backend in BACKENDS[1:]
    }
    worker(tmp_path / "numpy.npz", tmp_path / "model.keras")  # this process
    results = {"numpy": dict(np.load(tmp_path / "numpy.npz"))}
    for backend, process in processes.items():
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()[-3000:]
        results[backend] = dict(np.load(tmp_path / f"{backend}.npz"))
    reference = results["numpy"]
    assert {f"case/{c.name}" for c in RANDOM_CASES} <= set(reference)
    for backend in BACKENDS[1:]:
        assert set(results[backend]) == set(reference)
        for name, values in results[backend].items():
            if name.split("/")[1] in QR_BASED or "/b/kernel" in name:
                np.testing.assert_allclose(
                    values, reference[name], rtol=0, atol=QR_ATOL, err_msg=name
                )
            else:
                np.testing.assert_array_equal(
                    values.view(np.int32),
                    reference[name].view(np.int32),
                    err_msg=f"{name} differs on {backend}",
                )


if __name__ == "__main__":
    for case in RANDOM_CASES:
        print(f"    {case.name!r}: {digest(draw(case))!r},")


def test_a_part_of_an_unseeded_portable_seed_is_unseeded():
    # PortableSeed(None) draws anew every time; so do its parts.
    from keras_inits.random import derive_seed

    assert derive_seed(keras_inits.PortableSeed(None), "a") == (
        keras_inits.PortableSeed(None)
    )
    part = derive_seed(keras_inits.PortableSeed(3), "a")
    assert part == keras_inits.PortableSeed(derive_seed(3, "a"))
    assert part.seed is not None and 0 <= part.seed < 2**31
