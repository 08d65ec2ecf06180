"""The package's architecture, read from its source (nothing of it is
imported): folders by job, each importing only the folders below it; no
import cycles, lazy imports included; no private module (`_name.py`)
imported from outside its folder; no module using another's `_private`
names; `_internal` importing nothing of the package outside itself; a
public face (`__init__.py` with `__all__`) for each public folder; the
public entry points short enough to read as a plan.

Each check is a function of a package folder, so that the tests at the end
can show, on small packages written for them, that each one finds what it
looks for.
"""

import ast
import io
import pathlib
import tokenize

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "keras_inits"
INIT = "__init__"
# The package's `__init__.py` and `__main__.py` sit above every layer: they
# may import anything. An import *of* the package from any other module is a
# cycle, since `__init__.py` imports the modules.
TOP = {INIT, "__main__"}
# The folders, each importing only those before it (and itself): the
# layers docs/architecture.md lists. `_internal` is private to
# the package; the others are public faces.
LAYERS = (
    "_internal",
    "random",
    "initializers",
    "recipes",
    "model",
    "diagnostics",
    "experiments",
    "cli",
)
FOUNDATION = "_internal"
MAX_FUNCTION_LINES = 60
PUBLIC_FUNCTIONS = ("reinitialize", "lsuv", "compare", "deserialize")


class Import:
    """One import of a module of the package: where, and what it names."""

    def __init__(self, source, target, line, names=()):
        self.source = source  # the importing module, e.g. "base"
        self.target = target  # the imported one, e.g. "portable" or INIT
        self.line = line
        self.names = names  # the names it takes from the target

    def __repr__(self):
        return f"{self.source}.py:{self.line} imports {self.target}"


def modules(package):
    """{module name: parsed source} of every module of `package`, named by
    their dotted path inside it ("base", "sub.x", "__init__")."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if len(parts) > 1 and parts[-1] == INIT:
            parts = parts[:-1]  # a subpackage is named by its folder
        name = ".".join(parts)
        found[name] = ast.parse(path.read_text(), filename=str(path))
    return found


def _package_of(module):
    """The dotted package a module is in, "" for the top package."""
    if module == INIT:
        return ""
    return module.rpartition(".")[0]


def _resolve(package_name, known, module, node):
    """The module of the package an `import` or `from ... import` node names
    (None if it names no module of the package), and the imported names."""
    if isinstance(node, ast.Import):
        found = []
        for alias in node.names:
            if alias.name == package_name:
                found.append((INIT, ()))
            elif alias.name.startswith(package_name + "."):
                found.append((alias.name[len(package_name) + 1 :], ()))
        return found
    if node.level:  # relative: from . import x, from .x import y
        base = _package_of(module).split(".") if _package_of(module) else []
        if node.level > 1:
            base = base[: len(base) - (node.level - 1)]
        parts = base + (node.module.split(".") if node.module else [])
    elif node.module == package_name:
        parts = []
    elif node.module and node.module.startswith(package_name + "."):
        parts = node.module[len(package_name) + 1 :].split(".")
    else:
        return []
    prefix = ".".join(parts)
    target = prefix or INIT
    found = []
    taken = []
    for alias in node.names:
        submodule = f"{prefix}.{alias.name}" if prefix else alias.name
        if submodule in known:  # `from keras_inits import base`
            found.append((submodule, ()))
        else:  # a name defined in the target module (or `*`)
            taken.append(alias.name)
    if taken:
        found.append((target, tuple(taken)))
    return found


def imports(package):
    """Every import of a module of `package` by another, at any depth of
    the importing module (functions and classes too)."""
    parsed = modules(package)
    found = []
    for module, tree in parsed.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target, names in _resolve(
                    package.name, parsed, module, node
                ):
                    if target != module:
                        found.append(
                            Import(module, target, node.lineno, names)
                        )
    return found


def _strongly_connected(graph):
    """Tarjan's strongly connected components of {node: set of nodes}."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _one_cycle(graph, members):
    """A shortest cycle through the first of `members`, inside them."""
    start = members[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & set(members)):
                if successor == start:
                    return paths[node] + [start]
                if successor not in paths:
                    paths[successor] = paths[node] + [successor]
                    following.append(successor)
        frontier = following
    raise AssertionError(f"no cycle through {members}")


def import_cycles(package):
    """Each cycle among the modules of `package`, as text: its modules, one
    path round it, and the import lines that make it."""
    edges = [edge for edge in imports(package) if edge.source not in TOP]
    graph = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    cycles = []
    for members in _strongly_connected(graph):
        if len(members) > 1:
            lines = sorted(
                {
                    f"{e.source}.py:{e.line} -> {e.target}"
                    for e in edges
                    if e.source in members and e.target in members
                }
            )
            cycles.append(
                f"cycle among {members}: "
                f"{' -> '.join(_one_cycle(graph, members))} "
                f"({'; '.join(lines)})"
            )
    for edge in edges:
        if edge.target == INIT:
            taken = f" (for {', '.join(edge.names)})" if edge.names else ""
            cycles.append(
                f"{edge.source} -> {INIT} -> ... -> "
                f"{edge.source}: {edge.source}.py:{edge.line} "
                f"imports the package{taken}, whose __init__.py "
                "imports its modules"
            )
    return cycles


def folders(package):
    """The names of the package's folders (subpackages)."""
    return {
        path.name
        for path in package.iterdir()
        if (path / "__init__.py").exists()
    }


def folder_of(module, known_folders):
    """The folder a module is in ("random" for "random._seeds" and for the
    face "random"), "" for a module of the top package."""
    first = module.split(".")[0]
    return first if first in known_folders else ""


def private_module_imports(package):
    """Every import of a private module (`_name.py`) of one folder by a
    module of another folder: what another folder needs is part of the
    folder's public face."""
    known = folders(package)
    found = []
    for edge in imports(package):
        target_folder = folder_of(edge.target, known)
        if _private(
            edge.target.rpartition(".")[2]
        ) and target_folder != folder_of(edge.source, known):
            found.append(
                f"{edge.source}.py:{edge.line} imports {edge.target}"
                f", a private module of "
                f"{target_folder or 'the top package'}"
            )
    return found


def upward_imports(package, layers=LAYERS):
    """Every import, by a module of a folder, of a folder above it in
    `layers`, or of a module of the top package (which sits above every
    folder)."""
    known = folders(package)
    found = []
    for edge in imports(package):
        source = folder_of(edge.source, known)
        target = folder_of(edge.target, known)
        if not source or edge.target == INIT:  # INIT: import_cycles' job
            continue
        if not target:
            found.append(
                f"{edge.source}.py:{edge.line} imports "
                f"{edge.target} of the top package"
            )
        elif target != source and (
            source not in layers
            or target not in layers
            or layers.index(target) > layers.index(source)
        ):
            found.append(
                f"{edge.source}.py:{edge.line} imports {target}, "
                f"which is above {source}"
            )
    return found


def foundation_imports(package, foundation=FOUNDATION):
    """Every import, by a module of the `foundation` folder, of a module of
    the package outside it."""
    known = folders(package)
    return [
        f"{edge.source}.py:{edge.line} imports {edge.target}"
        for edge in imports(package)
        if folder_of(edge.source, known) == foundation
        and folder_of(edge.target, known) != foundation
    ]


def faces_without_all(package, foundation=FOUNDATION):
    """The public folders whose `__init__.py` has no `__all__`, or lists in
    it a name the face does not define or import."""
    found = []
    for path in sorted(package.iterdir()):
        init = path / "__init__.py"
        if not init.exists() or path.name == foundation:
            continue
        tree = ast.parse(init.read_text())
        listed, bound = None, set()
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__"
                for t in node.targets
            ):
                listed = ast.literal_eval(node.value)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update(
                    (a.asname or a.name).split(".")[0] for a in node.names
                )
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, ast.Assign):
                bound.update(
                    t.id for t in node.targets if isinstance(t, ast.Name)
                )
        if listed is None:
            found.append(f"{path.name}/__init__.py has no __all__")
            continue
        missing = sorted(set(listed) - bound)
        if missing:
            found.append(
                f"{path.name}/__init__.py lists {missing} in "
                "__all__ but does not define or import them"
            )
    return found


def _private(name):
    return (
        name.startswith("_")
        and name != "_"
        and not (name.startswith("__") and name.endswith("__"))
    )


def _module_names(package_name, known, module, tree):
    """{name: module of the package it is bound to} in `module`: aliases of
    `import keras_inits.x as y`, `from keras_inits import x`, and the dotted
    `keras_inits.x` that `import keras_inits.x` makes usable."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package_name or alias.name.startswith(
                    package_name + "."
                ):
                    target = alias.name[len(package_name) + 1 :] or INIT
                    if alias.asname:
                        names[alias.asname] = target
                    else:  # binds the package; its submodules by attribute
                        names[package_name] = INIT
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                for target, taken in _resolve(
                    package_name,
                    known,
                    module,
                    ast.ImportFrom(node.module, [alias], node.level),
                ):
                    if not taken:  # a module, bound to a name
                        names[alias.asname or alias.name] = target
    return names


def _dotted(node):
    """["a", "b", "c"] for the expression a.b.c, None for anything else."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return head and head + [node.attr]
    return None


def private_uses(package):
    """Every use, in one module of `package`, of another module's `_private`
    name: `from keras_inits.x import _y` and `x._y` (dunders excepted)."""
    parsed = modules(package)
    found = set()
    for edge in imports(package):
        for name in edge.names:
            if _private(name):
                found.add(
                    f"{edge.source}.py:{edge.line} imports "
                    f"{edge.target}.{name}"
                )
    for module, tree in parsed.items():
        bound = _module_names(package.name, parsed, module, tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not _private(node.attr):
                continue
            path = _dotted(node.value)
            if not path or path[0] not in bound:
                continue
            # Follow keras_inits.x.y down to the deepest module it names.
            target = bound[path[0]]
            for part in path[1:]:
                inner = part if target == INIT else f"{target}.{part}"
                if inner not in parsed:
                    target = None  # an attribute of a module's object
                    break
                target = inner
            if target is not None and target != module:
                found.add(
                    f"{module}.py:{node.lineno} uses {target}.{node.attr}"
                )
    return sorted(
        found,
        key=lambda text: (
            text.split(":")[0],
            int(text.split(":")[1].split()[0]),
            text,
        ),
    )


def _code_lines(source):
    """Numbers of the lines of `source` that hold code: not blank, not only
    a comment (a string spanning lines counts on each of its lines)."""
    lines = set()
    skip = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
        tokenize.ENCODING,
    }
    for token in tokenize.tokenize(io.BytesIO(source.encode()).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def function_lengths(package, names=PUBLIC_FUNCTIONS):
    """{"module.function": lines of code of its body} for each module-level
    function of `package` with one of `names`: the docstring, blank lines
    and comment-only lines not counted."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        source = path.read_text()
        tree = ast.parse(source)
        code = _code_lines(source)
        for node in tree.body:
            if (
                not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                or node.name not in names
            ):
                continue
            body = node.body
            if (
                isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                docstring = set(range(body[0].lineno, body[0].end_lineno + 1))
                body = body[1:]
            else:
                docstring = set()
            if not body:
                count = 0
            else:
                span = range(body[0].lineno, node.end_lineno + 1)
                count = len(
                    [n for n in span if n in code and n not in docstring]
                )
            module = ".".join(path.relative_to(package).with_suffix("").parts)
            found[f"{module}.{node.name}"] = count
    return found


# The package's architecture.


def test_no_import_cycles_lazy_imports_included():
    cycles = import_cycles(PACKAGE)
    assert not cycles, "\n".join(["Import cycles in keras_inits/:"] + cycles)


def test_each_folder_imports_only_the_folders_below_it():
    found = upward_imports(PACKAGE)
    assert not found, "\n".join(
        [f"Imports against the layers {' -> '.join(LAYERS)}:"] + found
    )


def test_no_private_module_is_imported_from_another_folder():
    found = private_module_imports(PACKAGE)
    assert not found, "\n".join(found)


def test_the_foundation_imports_nothing_of_the_package_above_it():
    found = foundation_imports(PACKAGE)
    assert not found, "\n".join(
        [f"keras_inits/{FOUNDATION}/ imports the package above it:"] + found
    )


def test_each_public_folder_has_a_face_with_all():
    found = faces_without_all(PACKAGE)
    assert not found, "\n".join(found)


def test_the_layers_are_the_folders():
    assert folders(PACKAGE) == set(LAYERS)


def test_no_module_uses_another_modules_private_names():
    uses = private_uses(PACKAGE)
    assert not uses, "\n".join(
        [f"{len(uses)} uses of another module's _private names:"] + uses
    )


def test_public_functions_are_short():
    lengths = function_lengths(PACKAGE)
    missing = [
        name
        for name in PUBLIC_FUNCTIONS
        if not any(key.rsplit(".", 1)[1] == name for key in lengths)
    ]
    assert not missing, f"No module-level function named {missing}"
    long = {
        name: count
        for name, count in lengths.items()
        if count > MAX_FUNCTION_LINES
    }
    assert not long, (
        f"Functions over {MAX_FUNCTION_LINES} lines of code "
        f"(docstring, blank and comment lines not counted): "
        f"{long}"
    )


# The checks themselves, on small packages that break each rule.


def _package(tmp_path, files):
    package = tmp_path / "keras_inits"
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return package


def test_cycles_are_found_through_every_kind_of_import(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "from keras_inits.a import f\nimport keras_inits.b\n",
            "__main__.py": "import keras_inits\n",  # allowed
            "a.py": "from . import b\n",
            "b.py": "def f():\n    from .c import g\n",  # lazy, relative
            "c.py": "class C:\n    def m(self):\n        import keras_inits.a\n",
            "d.py": "from keras_inits.e import x as y\n",
            "e.py": "def f():\n    from keras_inits import d\n",
            "f.py": "def f():\n    import keras_inits\n",
            "g.py": "from keras_inits import reinitialize\n",  # not a module
            "h.py": "import numpy\nfrom keras_inits import a\n",  # no cycle
        },
    )
    cycles = import_cycles(package)
    assert len(cycles) == 4, cycles
    assert cycles[0].startswith(
        "cycle among ['a', 'b', 'c']: a -> b -> c "
        "-> a (a.py:1 -> b; b.py:2 -> c; c.py:3 -> a)"
    )
    assert cycles[1].startswith("cycle among ['d', 'e']: d -> e -> d")
    assert cycles[2].startswith("f -> __init__ -> ... -> f: f.py:2 imports")
    assert cycles[3].startswith(
        "g -> __init__ -> ... -> g: g.py:1 imports "
        "the package (for reinitialize)"
    )
    assert not import_cycles(
        _package(
            tmp_path / "fine",
            {
                "__init__.py": "from keras_inits.a import f\n",
                "a.py": "from keras_inits import b\n",
                "b.py": "import keras\n",
            },
        )
    )


def test_folder_rules_are_checked(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "from keras_inits import low\n",
            "_top.py": "x = 1\n",
            "low/__init__.py": "from keras_inits.low._a import f\n__all__ = ['f']\n",
            "low/_a.py": (
                "from keras_inits.high import g\n"  # upward
                "def f():\n    from keras_inits.high._b import h\n"
            ),
            "low/_c.py": "from keras_inits.low import _a\n",  # same folder
            "high/__init__.py": "from keras_inits.high._b import g\n__all__ = ['g', 'k']\n",
            "high/_b.py": (
                "from keras_inits.low._a import f\n"  # private
                "from keras_inits.low import f as f2\n"
                "from keras_inits import _top\n"
            ),
            "base/__init__.py": "",
            "base/x.py": "from keras_inits.low import f\n",
        },
    )
    layers = ("base", "low", "high")
    assert sorted(upward_imports(package, layers)) == [
        "base.x.py:1 imports low, which is above base",
        "high._b.py:3 imports _top of the top package",
        "low._a.py:1 imports high, which is above low",
        "low._a.py:3 imports high, which is above low",
    ]
    assert sorted(private_module_imports(package)) == sorted(
        [
            "high._b.py:1 imports low._a, a private module of low",
            "high._b.py:3 imports _top, a private module of the top package",
            "low._a.py:3 imports high._b, a private module of high",
        ]
    )
    assert foundation_imports(package, "base") == ["base.x.py:1 imports low"]
    assert faces_without_all(package, "base") == [
        "high/__init__.py lists ['k'] in __all__ but does not define or "
        "import them"
    ]


def test_private_uses_are_found(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "_hidden = 1\n__version__ = '1'\n",
            "a.py": "_own = 1\ndef _f():\n    return _own\n",
            "b.py": (
                "from keras_inits import a\n"
                "from keras_inits import a as alias\n"
                "import keras_inits.a\n"
                "from . import a as rel\n"
                "x = a._f, alias._own, keras_inits.a._f, rel._f\n"
                "y = a.f._private, a.__name__, a.public\n"
            ),
            "c.py": (
                "def f():\n"
                "    from keras_inits.a import _f\n"
                "    from keras_inits import _hidden, __version__\n"
                "    from .a import _own as own\n"
            ),
        },
    )
    assert private_uses(package) == [
        "b.py:5 uses a._f",
        "b.py:5 uses a._own",
        "c.py:2 imports a._f",
        "c.py:3 imports __init__._hidden",
        "c.py:4 imports a._own",
    ]


def test_function_lengths_leave_out_docstrings_blanks_and_comments(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    package = _package(
        tmp_path,
        {
            "a.py": (
                'def lsuv():\n    """Doc.\n\n    More."""\n'
                "    # a comment\n\n" + body + "    return (\n        1)\n"
                "def other():\n" + body + body
            ),
            "b.py": (
                "class A:\n    def compare(self):\n"
                + (body + body).replace("    ", "        ")
            ),
        },
    )
    assert function_lengths(package) == {"a.lsuv": 62}


def guide_tree(page):
    """The folders the Architecture guide (docs/architecture.md) lists, in
    order: the lines `  name/  what it does` of the code block after the
    `architecture-tree` marker."""
    block = page.split("<!-- architecture-tree")[1].split("```")[1]
    return [
        line.split()[0].rstrip("/")
        for line in block.splitlines()
        if line.startswith("  ") and line.split()[0].endswith("/")
    ]


def test_the_guides_tree_is_the_package():
    listed = guide_tree(
        (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    )
    assert listed == list(LAYERS), (
        f"docs/architecture.md's tree lists {listed}; the folders, in their "
        f"layers' order, are {list(LAYERS)}"
    )


def test_the_guides_tree_is_read_line_by_line():
    readme = (
        "x\n<!-- architecture-tree: -->\n```\nkeras_inits/\n"
        "  a/   first\n  b/  second: a/ c/\n```\n"
    )
    assert guide_tree(readme) == ["a", "b"]
