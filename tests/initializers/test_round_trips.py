"""The round-trip matrix of the serialization layer (a config
keras_inits writes, keras_inits must read).

Every initializer of the catalogue, with every kind of seed, bare and nested
in `DepthScaled` and `ICNR`, keeps its exact config and, when seeded, its
draws through `serialize`/`deserialize`, JSON, Keras' own `deserialize`, a
`.keras` file, `model.to_json()`/`model_from_json` and `clone_model`, with
`set_portable` off and on. Split from test_serialization.py for its size.

The cheap routes run once per cell. The model routes build a model per seed
kind with a layer per cell (`grouped_model`): building layers is what costs.
"""

import contextlib
import dataclasses
import json
import os

import keras
import numpy as np
import pytest

import keras_inits
from tests.catalogue import CASES
from tests.fixtures.make_fixtures import grouped_model

SEED = 5

SEED_KINDS = {
    "None": lambda: None,
    "int": lambda: SEED,
    "SeedGenerator": lambda: keras.random.SeedGenerator(SEED),
    "PortableSeed": lambda: keras_inits.PortableSeed(SEED),
    "PortableSeed(None)": lambda: keras_inits.PortableSeed(None),
}
# Under set_portable(True) only int and None seeds change (they become
# PortableSeeds); a PortableSeed is the same either way. A SeedGenerator is
# saved as its int seed, so set_portable(True) makes it portable on loading:
# see test_under_set_portable_a_seed_generator_seed_loads_native.
PORTABLE_KINDS = ("None", "int")
# A rebuilt initializer with these draws the original's values.
SEEDED_KINDS = ("int", "SeedGenerator", "PortableSeed")


def _depth_scaled(init):
    return keras_inits.DepthScaled(init, depth=3)


def _icnr(init):
    return keras_inits.ICNR(init, scale=2)


NESTINGS = {
    "bare": lambda init: init,
    "DepthScaled": _depth_scaled,
    "ICNR": _icnr,
    "DepthScaled(ICNR)": lambda init: _depth_scaled(_icnr(init)),
}

# ICNR needs a rank-4 kernel with an output dimension divisible by
# scale**2 = 4; it draws its initializer for a (3, 3, 4, 4) one.
ICNR_LAYOUT = {
    "shape": (3, 3, 4, 16),
    "inputs": (6, 6, 4),
    "layer": lambda init: keras.layers.Conv2D(
        16, 3, padding="same", kernel_initializer=init
    ),
}
# Rows whose initializer cannot draw that (3, 3, 4, 4) kernel.
NOT_IN_ICNR = {
    "Identity": "rank 2 only",
    "STFT": "rank 3 only",
    "ConstantArray": "the shape of its value only",
    "BlockOrthogonal": "shape[-1] a multiple of the other dimensions",
}


# The rows whose seed reaches their config: the random ones, and the
# wrappers (DepthScaled, ICNR) seeded through the initializer inside.
SEEDED_ROWS = {
    case.name
    for case in CASES
    if keras_inits.serialize(case.make(SEED))
    != keras_inits.serialize(case.make(None))
}


def takes_seed(case):
    return case.name in SEEDED_ROWS


@dataclasses.dataclass
class Cell:
    case: object  # the catalogue row
    nesting: str
    kind: str
    portable: bool  # built and rebuilt under set_portable(True)

    @property
    def row(self):
        """The nested row, as grouped_model builds it."""
        case, nesting, kind = self.case, self.nesting, self.kind
        return dataclasses.replace(
            case,
            name=repr(self),
            # A fresh seed for every initializer: a shared SeedGenerator or
            # PortableSeed would advance between layers.
            make=lambda _: NESTINGS[nesting](case.make(SEED_KINDS[kind]())),
            **(ICNR_LAYOUT if "ICNR" in nesting else {}),
        )

    @property
    def replays(self):
        """Whether a rebuilt copy draws the original's values."""
        return self.kind in SEEDED_KINDS or not takes_seed(self.case)

    def __repr__(self):
        return f"{self.case.name}-{self.nesting}-{self.kind}"


def _cells():
    cells = []
    for portable in (False, True):
        for case in CASES:
            kinds = list(SEED_KINDS) if takes_seed(case) else ["None"]
            if portable:
                if not takes_seed(case):
                    continue  # no seed for set_portable to change
                kinds = list(PORTABLE_KINDS)
            nestings = [
                n
                for n in NESTINGS
                if not ("ICNR" in n and case.name in NOT_IN_ICNR)
            ]
            cells += [
                Cell(case, nesting, kind, portable)
                for nesting in nestings
                for kind in kinds
            ]
    return cells


CELLS = _cells()


@contextlib.contextmanager
def portable_mode(enabled):
    keras_inits.set_portable(enabled)
    try:
        yield
    finally:
        keras_inits.set_portable(False)


def first_draw(init, row):
    return np.asarray(
        keras.ops.convert_to_numpy(init(row.shape, dtype="float32"))
    )


def test_the_matrix_covers_every_row_seed_kind_and_nesting():
    native = {
        (c.case.name, c.nesting, c.kind) for c in CELLS if not c.portable
    }
    for case in CASES:
        kinds = SEED_KINDS if takes_seed(case) else ["None"]
        for nesting in NESTINGS:
            if "ICNR" in nesting and case.name in NOT_IN_ICNR:
                continue
            for kind in kinds:
                assert (case.name, nesting, kind) in native
    assert len(native) == len([c for c in CELLS if not c.portable])
    assert SEEDED_ROWS == {c.name for c in CASES if c.random} | {
        "DepthScaled",
        "ICNR",
    }
    assert {c.kind for c in CELLS if c.portable} == set(PORTABLE_KINDS)


@pytest.mark.parametrize("name", sorted(NOT_IN_ICNR))
def test_rows_left_out_of_icnr_cannot_draw_its_kernel(name):
    case = next(c for c in CASES if c.name == name)
    with pytest.raises(ValueError, match=f"{name} "):
        _icnr(case.make(SEED))(ICNR_LAYOUT["shape"])


# The cheap routes, once per cell.


@pytest.mark.parametrize(
    "cell",
    CELLS,
    ids=lambda c: f"{c!r}-{'set_portable' if c.portable else 'native'}",
)
def test_config_routes_keep_config_and_draws(cell):
    with portable_mode(cell.portable):
        serialized = keras_inits.serialize(cell.row.make(None))
        text = json.dumps(serialized)
        routes = {
            "deserialize": keras_inits.deserialize(serialized),
            "json": keras_inits.deserialize(json.loads(text)),
            "keras.initializers": keras.initializers.deserialize(
                json.loads(text)
            ),
        }
        for route, rebuilt in routes.items():
            assert keras_inits.serialize(rebuilt) == serialized, route
        if cell.replays:
            np.testing.assert_array_equal(
                first_draw(routes["json"], cell.row),
                first_draw(cell.row.make(None), cell.row),
            )


def test_set_portable_makes_the_seeds_of_nested_initializers_portable():
    # The matrix cells under set_portable(True) hold PortableSeeds: the
    # portable routes above test what they claim to.
    with portable_mode(True):
        config = keras_inits.serialize(
            _depth_scaled(_icnr(keras_inits.HeNormal(seed=SEED)))
        )
        plain = keras_inits.serialize(keras_inits.ICNR())
    inner = config["config"]["initializer"]["config"]["initializer"]
    assert inner["config"]["seed"]["config"] == {"seed": SEED}
    assert (
        plain["config"]["initializer"]["config"]["seed"]["registered_name"]
        == "keras_inits>PortableSeed"
    )


def test_under_set_portable_a_seed_generator_seed_loads_portable():
    # As docs/saving-loading.md says: a SeedGenerator seed is saved as its int seed, and
    # set_portable(True) makes an int seed portable when the config loads.
    with portable_mode(True):
        init = keras_inits.HeNormal(seed=keras.random.SeedGenerator(SEED))
        assert isinstance(init.seed, keras.random.SeedGenerator)
        rebuilt = keras_inits.deserialize(keras_inits.serialize(init))
    assert rebuilt.seed == keras_inits.PortableSeed(SEED)


# The model routes: one model per seed kind, a layer per cell.

GROUPS = sorted({(c.portable, c.kind) for c in CELLS})


@pytest.fixture(
    scope="module",
    params=GROUPS,
    ids=lambda g: f"{'set_portable' if g[0] else 'native'}-{g[1]}",
)
def group(request):
    portable, kind = request.param
    cells = {
        c.row.name: c
        for c in CELLS
        if (c.portable, c.kind) == (portable, kind)
    }
    with portable_mode(portable):
        model, layers = grouped_model(
            [c.row for c in cells.values()], seed=None
        )
    return portable, cells, model, layers


def assert_same_model(loaded, original, group, route, weights="replays"):
    """Each layer's initializer has the original's config; its weights are
    the original's for every cell (`weights="all"`, loaded weights) or for
    the cells that replay their draws (rebuilt weights)."""
    _, cells, _, layers = group
    for name, (row, init, attribute) in layers.items():
        got = getattr(loaded.get_layer(name), attribute)
        assert type(got) is type(init), (route, row.name)
        assert keras_inits.serialize(got) == keras_inits.serialize(init), (
            route,
            row.name,
        )
        if weights == "all" or cells[row.name].replays:
            for mine, theirs in zip(
                original.get_layer(name).get_weights(),
                loaded.get_layer(name).get_weights(),
            ):
                np.testing.assert_array_equal(
                    theirs, mine, err_msg=(f"{route}: {row.name}")
                )


def test_keras_file_round_trip(group, tmp_path):
    _, _, model, _ = group
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    # Loaded without set_portable: a file saved under it keeps its
    # PortableSeeds, so it loads the same anywhere.
    loaded = keras.models.load_model(path)
    assert_same_model(loaded, model, group, ".keras", weights="all")


def test_model_json_and_clone_round_trips(group):
    portable, _, model, _ = group
    with portable_mode(portable):
        rebuilt = {
            "to_json": keras.models.model_from_json(model.to_json()),
            "clone_model": keras.models.clone_model(model),
        }
    for route, loaded in rebuilt.items():
        assert_same_model(loaded, model, group, route)
