"""Keras' own initializer tests, run against keras_inits.

The test files Keras ships in its wheel
(`keras/src/initializers/{constant_initializers,random_initializers,
initializer}_test.py`) are read from the installed keras package when this
module is collected, never copied here, and executed with their name
`initializers` (and `compute_fans`) bound to `KERAS_INITS`, a namespace
holding keras_inits' equivalent of every public name of
`keras.initializers`. Their `testing.TestCase` classes are exposed in this
module, so pytest runs each Keras test as an item of this file
(`tests/initializers/test_keras_suite.py::RandomInitializersTest::test_random_normal`).

Each test runs as Keras wrote it, except for the `ADAPTATIONS` below: one
line of Keras' source replaced, each for a difference docs/differences.md
("How keras_inits differs from keras.initializers") documents. A replaced line must occur
exactly once in Keras' file, so a new Keras release that changes it fails
here rather than silently running something else.
"""

import builtins
import dataclasses
import inspect
import os
import types
import unittest
import warnings

import keras
import pytest

import keras_inits

KERAS_TESTS = os.path.join(
    os.path.dirname(keras.__file__), "src", "initializers"
)
FILES = (
    "constant_initializers_test.py",
    "random_initializers_test.py",
    "initializer_test.py",
)

# Public names of keras.initializers without a keras_inits equivalent, for
# which the namespace keeps Keras' own object. None today: each test of
# Keras' suite exercises keras_inits.
FALLBACKS = ()


def _keras_inits_namespace():
    """Every public name of `keras.initializers`, bound to keras_inits'
    object of the same `__name__`: `Identity` and its aliases
    `IdentityInitializer` and `identity` to `keras_inits.Identity`, `get`,
    `serialize`, `deserialize` and `Initializer` to keras_inits' own."""
    namespace = types.ModuleType("keras_inits_as_keras_initializers")
    fallbacks = []
    for name in dir(keras.initializers):
        if name.startswith("_"):
            continue
        theirs = getattr(keras.initializers, name)
        # By `__name__`, not attribute name: `keras_inits.orthogonal` is a
        # module, Keras' `orthogonal` an alias of the class.
        ours = getattr(keras_inits, theirs.__name__, None)
        if ours is None or inspect.ismodule(ours):
            fallbacks.append(name)
            ours = theirs
        setattr(namespace, name, ours)
    assert tuple(fallbacks) == FALLBACKS, fallbacks
    return namespace


KERAS_INITS = _keras_inits_namespace()


def _skip_if_backend(given_backend, reason):
    # Keras' conftest.py, which its wheel does not ship, defines this.
    return pytest.mark.skipif(
        keras.backend.backend() == given_backend, reason=reason
    )


# What the Keras test files import from outside Keras' package, and the
# names they import that point at keras_inits instead.
_CONFTEST = types.SimpleNamespace(skip_if_backend=_skip_if_backend)
_REPLACED_IMPORTS = {
    ("keras.src", "initializers"): KERAS_INITS,
    (
        "keras.src.initializers.random_initializers",
        "compute_fans",
    ): keras_inits.compute_fans,
}


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    """`__import__` for the Keras test modules: `from conftest import ...`
    gets Keras' helpers, and the names of `_REPLACED_IMPORTS` keras_inits'
    objects; everything else imports as usual."""
    if name == "conftest" and level == 0:
        return _CONFTEST
    module = builtins.__import__(name, globals, locals, fromlist, level)
    if (
        level == 0
        and fromlist
        and any((name, item) in _REPLACED_IMPORTS for item in fromlist)
    ):
        return types.SimpleNamespace(
            **{
                item: _REPLACED_IMPORTS.get((name, item), None)
                or getattr(module, item)
                for item in fromlist
            }
        )
    return module


@dataclasses.dataclass(frozen=True)
class Adaptation:
    file: str
    old: str  # lines of Keras' source, found exactly once
    new: str  # as many lines, so tracebacks keep Keras' line numbers
    why: str


ADAPTATIONS = (
    Adaptation(
        "random_initializers_test.py",
        "# Test that a fixed seed yields the same results each call.\n"
        "        initializer = initializers.RandomNormal(\n"
        "            mean=mean, stddev=stddev, seed=1337\n"
        "        )\n"
        "        values = initializer(shape=shape)\n"
        "        next_values = initializer(shape=shape)\n"
        "        self.assertAllClose(values, next_values)\n",
        "# Test that a fixed seed yields the same results each call.\n"
        "        initializer = initializers.RandomNormal(\n"
        "            mean=mean, stddev=stddev, seed=1337\n"
        "        )\n"
        "        values = initializer(shape=shape)\n"
        "        next_values = initializer(shape=shape)\n"
        "        self.assertNotAllClose(values, next_values)\n",
        "A seeded keras_inits initializer draws fresh values at each call "
        "(its seed fixes the sequence of draws, which a new instance or "
        "from_config replays: the test's next check); Keras' repeats them.",
    ),
    Adaptation(
        "random_initializers_test.py",
        'kernel_initializer="lecun_normal",\n',
        'kernel_initializer="keras_inits>LecunNormal",\n',
        "A layer resolves a name with keras.initializers.get, so "
        "'lecun_normal' is Keras' class; 'keras_inits>LecunNormal' is the "
        "drop-in swap docs/differences.md describes, and tests that MultiHeadAttention "
        "hands keras_inits' class its kernels' axes.",
    ),
)


def _load(file):
    path = os.path.join(KERAS_TESTS, file)
    with open(path) as f:
        source = f.read()
    for adaptation in ADAPTATIONS:
        if adaptation.file != file:
            continue
        count = source.count(adaptation.old)
        assert count == 1, (
            f"{file} holds {count} copies of {adaptation.old!r}: Keras' "
            "test changed, review the adaptation."
        )
        assert adaptation.old.count("\n") == adaptation.new.count("\n")
        source = source.replace(adaptation.old, adaptation.new)
    name = "keras_suite." + file[: -len(".py")]
    module = types.ModuleType(name)
    module.__file__ = path
    module.__builtins__ = dict(vars(builtins), __import__=_import)
    with warnings.catch_warnings():
        # `pytest.mark.multi_device` is registered by Keras' conftest only.
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        exec(compile(source, path, "exec"), vars(module))
    return module


def _test_cases(module):
    return {
        name: cls
        for name, cls in vars(module).items()
        if isinstance(cls, type)
        and issubclass(cls, unittest.TestCase)
        and cls.__module__ == module.__name__
    }


MODULES = {file: _load(file) for file in FILES}
for _module in MODULES.values():
    globals().update(_test_cases(_module))
del _module


@pytest.fixture(autouse=True, scope="module")
def _restore_traceback_filtering():
    # Keras' TestCase.setUp turns Keras' traceback filtering off for good.
    enabled = keras.config.is_traceback_filtering_enabled()
    yield
    if enabled:
        keras.config.enable_traceback_filtering()


@pytest.fixture(autouse=True)
def _multi_device_tests_need_devices(request):
    # Keras runs its tests marked `multi_device` on several devices (the
    # model-parallel one asserts at least 4): tests/run_all.sh's run on 8
    # simulated JAX devices, or XLA_FLAGS=--xla_force_host_platform_device_
    # count=8 by hand. They are JAX-only, so jax is imported only here.
    if request.node.get_closest_marker("multi_device") is not None:
        import jax

        if jax.device_count() < 4:
            pytest.skip("Keras' multi-device tests need 4 devices or more")


def test_keras_tests_see_keras_inits():
    for module in MODULES.values():
        assert module.initializers is KERAS_INITS
    random_tests = MODULES["random_initializers_test.py"]
    assert random_tests.compute_fans is keras_inits.compute_fans
    layout_tests = MODULES["initializer_test.py"]
    assert issubclass(
        layout_tests.InitializerWithLayout, keras_inits.Initializer
    )
    for name in dir(keras.initializers):
        if not name.startswith("_") and name not in FALLBACKS:
            assert getattr(KERAS_INITS, name) is not getattr(
                keras.initializers, name
            ), name
    assert KERAS_INITS.IdentityInitializer is keras_inits.Identity
    assert KERAS_INITS.orthogonal is keras_inits.Orthogonal
    assert KERAS_INITS.variance_scaling is keras_inits.VarianceScaling
    assert KERAS_INITS.get is keras_inits.get


def test_every_keras_test_class_is_collected_here():
    for module in MODULES.values():
        cases = _test_cases(module)
        assert cases, f"no TestCase class in {module.__file__}"
        for name, cls in cases.items():
            assert globals()[name] is cls
    assert {"ConstantInitializersTest", "RandomInitializersTest"} <= set(
        globals()
    )
