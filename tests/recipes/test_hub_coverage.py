"""The table of the recipes on keras-hub's backbones in docs/recipes.md is
the code's.

Every backbone class keras-hub exports has a builder in `hub_backbones`
or a reason in `NOT_BUILDABLE`, so a keras-hub release that adds one fails
here. On TensorFlow, every backbone's row of the table, and the whole
table, equal the page's (`hub_coverage`). The tests are end-to-end (`e2e`):
on JAX and PyTorch only GPT-2's row is checked (`smoke`), since the roles
and the recipes' choices do not depend on the backend; `FULL=1 bash
tests/run_all.sh` checks a dozen rows there (`SUBSET`). Each backbone is
built and planned once per session (its coverage is cached, and one `plan`
asks every recipe: `hub_coverage.coverage`, checked here against a `plan`
per recipe).

Measured on 2 shared cores (2026-12-06, keras-hub 0.32.0): this file takes
about 80 s on TensorFlow (74 backbones); with the dozen rows of a FULL run,
50 s on JAX, 25 s on PyTorch, and 10 s on NumPy (skipped).
"""

import functools
import pathlib

import keras
import pytest

pytest.importorskip("keras_hub")

from tests.recipes import hub_backbones
from tests.recipes import hub_coverage

pytestmark = pytest.mark.e2e

BACKEND = keras.config.backend()
# The row checked on every backend.
SMOKE = "GPT2Backbone"
PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "recipes.md"
REGENERATE = (
    "run `KERAS_BACKEND=tensorflow python -m tests.recipes.hub_coverage "
    "--readme docs/recipes.md`"
)
# The backbones checked on JAX and PyTorch in a FULL run: the families the
# recipes come from, and others that use keras-hub's layers differently.
SUBSET = (
    "BertBackbone",
    "BloomBackbone",
    "FalconBackbone",
    "GPT2Backbone",
    "GPTNeoXBackbone",
    "GemmaBackbone",
    "LlamaBackbone",
    "MixtralBackbone",
    "ResNetBackbone",
    "T5Backbone",
    "ViTBackbone",
    "WhisperBackbone",
)
NUMPY = (
    "keras-hub's backbones are built on NumPy by running their layers on "
    "placeholder values, which warn of overflows (an error in this suite) "
    "and fail for DepthAnythingBackbone; the rows are checked on the other "
    "backends"
)
# The warnings keras-hub 0.32.0 gives while building these backbones, on
# every backend; raised in its code and Keras', they cannot be fixed here.
BUILD_WARNINGS = {
    # T5MultiHeadAttention gets a masked input and does not support masks.
    "T5Backbone": [
        pytest.mark.filterwarnings(
            r"ignore:Layer '(self|cross)_attention' \(of type "
            r"T5MultiHeadAttention\) was passed an input with a mask:"
            "UserWarning"
        )
    ],
    # So does the Swin transformer's WindowAttention.
    "SwinTransformerBackbone": [
        pytest.mark.filterwarnings(
            r"ignore:Layer 'attn' \(of type WindowAttention\) was passed an "
            "input with a mask:UserWarning"
        )
    ],
    # Flux's double stream blocks have sublayers but no build().
    "FluxBackbone": [
        pytest.mark.filterwarnings(
            r"ignore:`build\(\)` was called on layer 'double_stream_block"
            ":UserWarning"
        )
    ],
}


def backbones():
    """The backbones whose rows this backend checks, as pytest params."""
    if BACKEND == "tensorflow":
        names = [
            name
            for name in hub_backbones.exported_backbones()
            if name not in hub_backbones.NOT_BUILDABLE
        ]
    else:
        names = SUBSET
    return [
        pytest.param(
            name,
            marks=BUILD_WARNINGS.get(name, [])
            + [pytest.mark.skipif(BACKEND == "numpy", reason=NUMPY)]
            + ([pytest.mark.smoke] if name == SMOKE else []),
            id=name,
        )
        for name in names
    ]


@functools.cache
def coverage(name):
    return hub_coverage.backbone_coverage(name)


@functools.cache
def readme():
    return PAGE.read_text(encoding="utf-8")


def test_every_exported_backbone_has_a_builder_or_a_reason():
    exported = hub_backbones.exported_backbones()
    assert "GPT2Backbone" in exported and "Backbone" not in exported
    missing = [
        name
        for name in exported
        if name not in hub_backbones.BUILDERS
        and name not in hub_backbones.NOT_BUILDABLE
    ]
    assert not missing, (
        f"keras-hub exports {missing} with no builder: add one to "
        "tests/recipes/hub_backbones.py (its config from keras-hub's "
        "backbone test) or a reason to NOT_BUILDABLE, then " + REGENERATE
    )
    stale = sorted(
        (set(hub_backbones.BUILDERS) | set(hub_backbones.NOT_BUILDABLE))
        - set(exported)
    )
    assert not stale, f"{stale} are no longer exported by keras-hub"
    assert not set(hub_backbones.BUILDERS) & set(hub_backbones.NOT_BUILDABLE)
    aliases = hub_backbones.aliases()
    assert set(aliases.values()) <= set(exported)
    assert not set(aliases) & set(exported)
    assert set(SUBSET) <= set(hub_backbones.BUILDERS)


def test_build_names_the_backbone_it_cannot_build():
    with pytest.raises(ValueError, match="No builder for keras-hub's Nope"):
        hub_backbones.build("Nope")
    with pytest.raises(
        ValueError,
        match="keras-hub's FeaturePyramidBackbone is not built here: the "
        "base class",
    ):
        hub_backbones.build("FeaturePyramidBackbone")


@pytest.mark.skipif(BACKEND == "numpy", reason=NUMPY)
@pytest.mark.parametrize("name", ["GPT2Backbone", "BLIP2Backbone"])
def test_one_plan_for_every_recipe_is_a_plan_per_recipe(name):
    # BLIP2Backbone: some recipes need a block its query tokens lack.
    keras.utils.clear_session()
    model = hub_backbones.build(name)
    assert hub_coverage.coverage(name, model) == hub_coverage.coverage(
        name, model, one_plan=False
    )


@pytest.mark.parametrize("name", backbones())
def test_row_is_readmes(name):
    rows = hub_coverage.readme_rows(readme())
    computed = hub_coverage.row(coverage(name))
    assert rows.get(name) == computed, (
        f"{name} on {BACKEND}:\n  page:     {rows.get(name)}\n  computed: "
        f"{computed}\nThe page's table is TensorFlow's; the roles and the "
        "recipes do not depend on the backend. If the code changed, "
        + REGENERATE
    )


def with_marks(marks):
    """Applies the marks of a list to the decorated test."""
    return lambda test: functools.reduce(lambda t, mark: mark(t), marks, test)


@pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="The page's table is TensorFlow's; the other backends check rows",
)
# It builds the backbones the row tests have not built.
@with_marks([mark for marks in BUILD_WARNINGS.values() for mark in marks])
def test_table_is_readmes():
    names = [
        name
        for name in hub_backbones.exported_backbones()
        if name not in hub_backbones.NOT_BUILDABLE
    ]
    table = hub_coverage.markdown([coverage(n) for n in names], BACKEND)
    assert hub_coverage.readme_table(readme()) == table, (
        "docs/recipes.md's table of the recipes on keras-hub's backbones is "
        "not the "
        "computed one: " + REGENERATE
    )
