"""The public API, pinned: each public face's `__all__`, every name of it
recorded in CHANGELOG.md, and the old paths of the flat layout importable
with a DeprecationWarning.

A change to a face's `__all__` fails `test_each_face_exports_exactly_its_api`
until API below is updated with it, and the added names are recorded in
CHANGELOG.md (`test_every_public_name_is_in_the_changelog`); a removed one
goes under Removed there.
"""

import importlib
import importlib.util
import pathlib
import re
import subprocess
import sys
import warnings

import pytest

import keras_inits
from keras_inits import _moved

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()

API = {
    "keras_inits": (
        "Bilinear",
        "BlockOrthogonal",
        "ClippedNormal",
        "Constant",
        "ConstantArray",
        "DeltaOrthogonal",
        "DepthScaled",
        "Dirac",
        "GlorotNormal",
        "GlorotUniform",
        "HeNormal",
        "HeUniform",
        "ICNR",
        "Identity",
        "Initializer",
        "KaimingNormal",
        "KaimingUniform",
        "LSUVReport",
        "LayerReport",
        "LecunNormal",
        "LecunUniform",
        "ModelDescription",
        "Ones",
        "Orthogonal",
        "PortableSeed",
        "RandomInitializer",
        "RandomNormal",
        "RandomUniform",
        "Recommendation",
        "ReinitializeError",
        "ReinitializeReport",
        "ReinitializedVariable",
        "STFT",
        "SignalCurve",
        "SignalReport",
        "Sparse",
        "TruncatedNormal",
        "TruncatedNormalRange",
        "TruncatedNormalSigmas",
        "VariableStats",
        "VarianceScaling",
        "WeightStats",
        "ZerO",
        "Zeros",
        "calculate_gain",
        "compute_fans",
        "describe",
        "deserialize",
        "get",
        "is_portable",
        "lsuv",
        "plot_signal_propagation",
        "plot_weight_histograms",
        "recipes",
        "recommend",
        "register",
        "reinitialize",
        "serialize",
        "set_portable",
        "signal_propagation",
    ),
    "keras_inits.initializers": (
        "Bilinear",
        "BlockOrthogonal",
        "ClippedNormal",
        "Constant",
        "ConstantArray",
        "DeltaOrthogonal",
        "DepthScaled",
        "Dirac",
        "GlorotNormal",
        "GlorotUniform",
        "HeNormal",
        "HeUniform",
        "ICNR",
        "Identity",
        "Initializer",
        "InitializerLike",
        "KaimingNormal",
        "KaimingUniform",
        "LecunNormal",
        "LecunUniform",
        "MAX_NESTING",
        "Ones",
        "Orthogonal",
        "RandomInitializer",
        "RandomNormal",
        "RandomUniform",
        "Recommendation",
        "STFT",
        "Sparse",
        "TruncatedNormal",
        "TruncatedNormalRange",
        "TruncatedNormalSigmas",
        "VarianceScaling",
        "ZerO",
        "Zeros",
        "argument_error",
        "calculate_gain",
        "check_choice",
        "check_count",
        "check_number",
        "check_positive",
        "compute_fans",
        "deserialize",
        "equivalent_class",
        "get",
        "name_table",
        "recommend",
        "register",
        "serialize",
    ),
    "keras_inits.random": (
        "Generator",
        "MAX_SIGMAS",
        "NORMAL_REACH",
        "PortableSeed",
        "Seed",
        "check_seed",
        "check_sigma_bounds",
        "derive_seed",
        "draw_lock",
        "generator_for",
        "is_portable",
        "normal",
        "orthogonal_matrix",
        "read_seed",
        "seed_config",
        "set_portable",
        "truncated_normal",
        "uniform",
    ),
    "keras_inits.recipes": (
        "PlannedVariable",
        "ROLES",
        "SUBROLES",
        "Recipe",
        "RecipePlan",
        "Rule",
        "Slot",
        "get",
        "mup_recipe",
        "names",
        "plan",
        "register",
    ),
    "keras_inits.model": (
        "DrawnFrom",
        "LSUVReport",
        "LayerReport",
        "LayerSelection",
        "ReinitializeError",
        "ReinitializeReport",
        "ReinitializedVariable",
        "drawn_from",
        "lsuv",
        "reinitialize",
    ),
    "keras_inits.diagnostics": (
        "ModelDescription",
        "SignalCurve",
        "SignalReport",
        "VariableStats",
        "WeightStats",
        "describe",
        "expected_std",
        "plot_signal_propagation",
        "plot_weight_histograms",
        "signal_propagation",
    ),
    "keras_inits.experiments": (
        "INPUTS",
        "LSUV",
        "RECIPE_OUTPUTS",
        "RecipeRun",
        "Run",
        "Summary",
        "TRAINABLE_BACKENDS",
        "UnknownInitializerError",
        "build_network",
        "build_transformer",
        "compare",
        "compare_recipes",
        "format_recipe_table",
        "format_table",
        "load_corpus",
        "load_digits",
        "output_problem",
        "parse_initializers",
        "read_recipes",
        "summarize",
        "valid_names",
        "windows",
    ),
    "keras_inits.cli": (
        "main",
        "prepare",
    ),
}

# The deep paths README, CHANGELOG or the notebooks documented in the flat
# layout, and the public face that has each name now.
DOCUMENTED_PATHS = {
    "keras_inits.samplers.normal": "keras_inits.random.normal",
    "keras_inits.samplers.uniform": "keras_inits.random.uniform",
    "keras_inits.samplers.truncated_normal": "keras_inits.random.truncated_normal",
    "keras_inits.samplers.orthogonal_matrix": "keras_inits.random.orthogonal_matrix",
    "keras_inits.checks.check_number": "keras_inits.initializers.check_number",
    "keras_inits.checks.check_positive": "keras_inits.initializers.check_positive",
    "keras_inits.roles.Slot": "keras_inits.recipes.Slot",
    "keras_inits.roles.ROLES": "keras_inits.recipes.ROLES",
    "keras_inits.recipe_book.mup_recipe": "keras_inits.recipes.mup_recipe",
    "keras_inits.recipe_book.Recipe": "keras_inits.recipes.Recipe",
    "keras_inits.transformer_comparison.compare_recipes": "keras_inits.experiments.compare_recipes",
    "keras_inits.transformer.build_transformer": "keras_inits.experiments.build_transformer",
    "keras_inits.transformer.load_corpus": "keras_inits.experiments.load_corpus",
    "keras_inits.transformer.windows": "keras_inits.experiments.windows",
    "keras_inits.comparison.compare": "keras_inits.experiments.compare",
    "keras_inits.comparison.build_network": "keras_inits.experiments.build_network",
    "keras_inits.comparison.load_digits": "keras_inits.experiments.load_digits",
    "keras_inits.comparison.format_table": "keras_inits.experiments.format_table",
    "keras_inits.runs.Run": "keras_inits.experiments.Run",
    "keras_inits.runs.Summary": "keras_inits.experiments.Summary",
    "keras_inits.runs.summarize": "keras_inits.experiments.summarize",
    "keras_inits.base.MAX_NESTING": "keras_inits.initializers.MAX_NESTING",
    "keras_inits.diagnostics.expected_std": "keras_inits.diagnostics.expected_std",
    "keras_inits.variance_scaling.HeNormal": "keras_inits.HeNormal",
    "keras_inits.weight_stats.WeightStats": "keras_inits.WeightStats",
}


def _resolve(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("face", sorted(API))
def test_each_face_exports_exactly_its_api(face):
    exported = set(importlib.import_module(face).__all__)
    added, removed = exported - set(API[face]), set(API[face]) - exported
    assert not added and not removed, (
        f"The public API of {face} changed: added {sorted(added)}, removed "
        f"{sorted(removed)}. Record the change in CHANGELOG.md (Added, or "
        "Removed / Deprecated) and in API in tests/test_public_api.py."
    )
    for name in exported:
        assert hasattr(importlib.import_module(face), name), (face, name)


def test_every_public_name_is_in_the_changelog():
    missing = [
        f"{face}.{name}"
        for face, names in API.items()
        for name in names
        if not re.search(rf"`[^`\n]*\b{re.escape(name)}\b[^`\n]*`", CHANGELOG)
    ]
    assert not missing, (
        f"Public names CHANGELOG.md never mentions: {missing}. Record them "
        "(in backticks) where they were added."
    )


def test_the_top_face_keeps_the_flat_layouts_names():
    # keras_inits.__all__ kept every name it had before the move, each the
    # object a folder's face exports (`recipes` is a face itself).
    assert len(API["keras_inits"]) == 60
    for name in API["keras_inits"]:
        top = getattr(keras_inits, name)
        faces = [
            getattr(importlib.import_module(face), name)
            for face in API
            if face != "keras_inits" and name in API[face]
        ]
        assert any(found is top for found in faces) or name == "recipes", name


@pytest.mark.parametrize("old, new", sorted(DOCUMENTED_PATHS.items()))
def test_documented_deep_paths_warn_and_give_the_same_object(old, new):
    module, _, name = old.rpartition(".")
    sys.modules.pop(module, None)
    if module == "keras_inits.diagnostics":  # the same path: a face now
        assert _resolve(old) is _resolve(new)
        return
    with pytest.warns(
        DeprecationWarning,
        match=rf"{re.escape(module)} is deprecated and will be "
        r"removed in 0\.2\.0: .*import from ",
    ):
        found = getattr(importlib.import_module(module), name)
    assert found is _resolve(new)
    assert f"`{module}`" in CHANGELOG, (
        f"{module} is deprecated: record it in CHANGELOG.md under "
        "Deprecated, in backticks"
    )


# The modules of the flat layout (0.1.0 before the move into folders).
FLAT_LAYOUT = (
    "applying",
    "arrays",
    "autodiff",
    "base",
    "bounded_normal",
    "checks",
    "cli",
    "cli_parser",
    "comparison",
    "constant_initializers",
    "constants",
    "convolution",
    "depth",
    "diagnostics",
    "gain",
    "gaussian",
    "householder",
    "initializer_lists",
    "keras_internals",
    "limits",
    "lsuv",
    "moments",
    "names",
    "native_ops",
    "networks",
    "orthogonal",
    "planning",
    "portable",
    "propagation",
    "random_initializers",
    "recipe_book",
    "recipes",
    "recommend",
    "registration",
    "reinitialize",
    "reinitialize_report",
    "reports",
    "roles",
    "runs",
    "samplers",
    "seeds",
    "selection",
    "serialization",
    "sharding",
    "sparse",
    "spectral",
    "startup",
    "tables",
    "threefry",
    "transformer",
    "transformer_comparison",
    "transformer_reports",
    "variance_scaling",
    "weight_stats",
)


def test_every_flat_module_is_an_old_path():
    # Each module of the flat layout is a folder's face at the same path
    # now, or the function it was named for, or it warns.
    faces = {"cli", "diagnostics", "recipes"}
    functions = {"lsuv", "recommend", "reinitialize"}
    assert set(_moved.MOVED) == set(FLAT_LAYOUT) - faces - functions
    for name in faces | functions:
        assert hasattr(keras_inits, name) or importlib.util.find_spec(
            f"keras_inits.{name}"
        )
    for holder, face in _moved.MOVED.values():
        assert importlib.util.find_spec(holder) is not None, holder
        assert importlib.util.find_spec(face) is not None, face


@pytest.mark.e2e  # a child process: once, on TensorFlow
def test_an_old_path_warns_where_it_is_imported(tmp_path):
    script = tmp_path / "user_code.py"
    script.write_text("from keras_inits.samplers import normal\n")
    result = subprocess.run(
        [sys.executable, "-W", "always::DeprecationWarning", str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"{script}:1: DeprecationWarning: keras_inits.samplers is deprecated"
    ) in result.stderr, result.stderr[-2000:]


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        keras_inits.nothing  # noqa: B018
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("keras_inits.nothing")
