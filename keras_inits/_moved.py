"""The modules of the flat layout, importable at their old paths until
0.2.0, with a DeprecationWarning.

Until the package moved into folders, every module sat in `keras_inits/`
(`keras_inits.samplers`, `keras_inits.roles`, ...), and README, CHANGELOG
and the notebooks named some of them. `import keras_inits.samplers` (or
`from keras_inits import samplers`) still works: it warns, naming where to
import from now, and gives the module that now holds the same code. Only
the names the old paths documented are kept (a helper renamed since is
not); each old path is recorded in CHANGELOG under Deprecated.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# Old module -> (the module that holds its code now, where to import from).
# Not the old modules named as a function they defined (`lsuv`,
# `recommend`, `reinitialize`): `keras_inits.lsuv` is that function, which
# an import of the module would replace on the package.
MOVED = {
    "applying": ("keras_inits.model._applying", "keras_inits.model"),
    "arrays": ("keras_inits._internal.arrays", "keras_inits.initializers"),
    "autodiff": ("keras_inits._internal.autodiff", "keras_inits.diagnostics"),
    "base": ("keras_inits.initializers._base", "keras_inits.initializers"),
    "bounded_normal": (
        "keras_inits.initializers._bounded_normal",
        "keras_inits.initializers",
    ),
    "checks": ("keras_inits._internal.checks", "keras_inits.initializers"),
    "cli_parser": ("keras_inits.cli._parser", "keras_inits.cli"),
    "comparison": (
        "keras_inits.experiments._comparison",
        "keras_inits.experiments",
    ),
    "constant_initializers": (
        "keras_inits.initializers._constant",
        "keras_inits.initializers",
    ),
    "constants": ("keras_inits._internal.defaults", "keras_inits.experiments"),
    "convolution": (
        "keras_inits.initializers._convolution",
        "keras_inits.initializers",
    ),
    "depth": ("keras_inits.initializers._depth", "keras_inits.initializers"),
    "gain": ("keras_inits.initializers._gain", "keras_inits.initializers"),
    "gaussian": ("keras_inits._internal.gaussian", "keras_inits.random"),
    "householder": ("keras_inits.random._householder", "keras_inits.random"),
    "initializer_lists": (
        "keras_inits.experiments._initializer_lists",
        "keras_inits.experiments",
    ),
    "keras_internals": (
        "keras_inits._internal.keras_internals",
        "keras_inits",
    ),
    "limits": ("keras_inits._internal.limits", "keras_inits"),
    "moments": ("keras_inits.model._moments", "keras_inits.model"),
    "names": ("keras_inits.initializers._names", "keras_inits.initializers"),
    "native_ops": ("keras_inits._internal.native_ops", "keras_inits.random"),
    "networks": ("keras_inits._internal.networks", "keras_inits.experiments"),
    "orthogonal": (
        "keras_inits.initializers._orthogonal",
        "keras_inits.initializers",
    ),
    "planning": ("keras_inits.model._planning", "keras_inits.model"),
    "portable": ("keras_inits.random._portable", "keras_inits.random"),
    "propagation": (
        "keras_inits.diagnostics._propagation",
        "keras_inits.diagnostics",
    ),
    "random_initializers": (
        "keras_inits.initializers._random",
        "keras_inits.initializers",
    ),
    "recipe_book": ("keras_inits.recipes._book", "keras_inits.recipes"),
    "registration": (
        "keras_inits.initializers._registration",
        "keras_inits.initializers",
    ),
    "reinitialize_report": ("keras_inits.model._report", "keras_inits.model"),
    "reports": ("keras_inits.experiments._reports", "keras_inits.experiments"),
    "roles": ("keras_inits.recipes._roles", "keras_inits.recipes"),
    "runs": ("keras_inits.experiments._runs", "keras_inits.experiments"),
    "samplers": ("keras_inits.random._samplers", "keras_inits.random"),
    "seeds": ("keras_inits.random._seeds", "keras_inits.random"),
    "selection": ("keras_inits.model._selection", "keras_inits.model"),
    "serialization": (
        "keras_inits.initializers._serialization",
        "keras_inits.initializers",
    ),
    "sharding": ("keras_inits._internal.sharding", "keras_inits.random"),
    "sparse": ("keras_inits.initializers._sparse", "keras_inits.initializers"),
    "spectral": (
        "keras_inits.initializers._spectral",
        "keras_inits.initializers",
    ),
    "startup": ("keras_inits._startup", "keras_inits.cli"),
    "tables": ("keras_inits._internal.tables", "keras_inits"),
    "threefry": ("keras_inits.random._generator", "keras_inits.random"),
    "transformer": (
        "keras_inits.experiments._transformer",
        "keras_inits.experiments",
    ),
    "transformer_comparison": (
        "keras_inits.experiments._transformer_comparison",
        "keras_inits.experiments",
    ),
    "transformer_reports": (
        "keras_inits.experiments._transformer_reports",
        "keras_inits.experiments",
    ),
    "variance_scaling": (
        "keras_inits.initializers._variance_scaling",
        "keras_inits.initializers",
    ),
    "weight_stats": (
        "keras_inits.diagnostics._weight_stats",
        "keras_inits.diagnostics",
    ),
}


def moved_module(name: str):
    """The module now holding what `keras_inits.<name>` held, after a
    DeprecationWarning naming where to import from; raises AttributeError
    for a name that never was a module of the flat layout."""
    if name not in MOVED:
        raise AttributeError(f"module 'keras_inits' has no attribute {name!r}")
    holder, face = MOVED[name]
    warnings.warn(
        f"keras_inits.{name} is deprecated and will be removed in 0.2.0: "
        f"the package moved into folders; import from {face} instead "
        "(CHANGELOG.md lists where each name went).",
        DeprecationWarning,
        stacklevel=3,
    )
    return importlib.import_module(holder)


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `keras_inits.<old name>` for `import keras_inits.samplers` and
    `from keras_inits.samplers import normal`: the module it loads is the
    one that holds the code now (`moved_module`)."""

    def find_spec(self, fullname, path, target=None):
        package, _, name = fullname.partition(".")
        if package != "keras_inits" or name not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return moved_module(spec.name.partition(".")[2])

    def exec_module(self, module):
        pass  # the module that holds the code is already executed


def install() -> None:
    """Puts the finder of the old paths on `sys.meta_path`, once."""
    if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
