"""The API reference documents every public name once, and the site builds.

Each public face of the package (`keras_inits` and each subpackage whose
`__init__` has `__all__`, found by walking the package, so that a new face
is caught) has its page, `docs/api/<face>.md` (`keras_inits.md` for the top
level, `initializers.md` for `keras_inits.initializers`), in the site's
nav. A subpackage's page holds `::: keras_inits.<face>` (its docstring)
and one `::: keras_inits.<face>.<name>` entry per name of its `__all__`,
and nothing else: a name added to `__all__` without its entry fails, and
so does an entry for a name that is not public (removed, or misspelt).

The top level re-exports names of the subpackages (`keras_inits.HeNormal`
is `keras_inits.initializers.HeNormal`); each is documented once, where it
lives, and the top-level page links each of its names to that entry
(`[HeNormal][keras_inits.initializers.HeNormal]`, a cross-reference that
mkdocstrings resolves). A name defined only at the top level gets an
entry of its own there. Every public name has a docstring, as
mkdocstrings reads it (a constant's or type alias's is the string after
its assignment).

These checks read the pages and the source as text and take seconds;
`test_site_builds` (e2e) builds the site with `mkdocs build --strict`,
which also fails on a broken link, anchor or cross-reference, on a
notebook or page left out of the nav, and on a docstring mkdocstrings
cannot parse (a parameter documented but not in the signature).
"""

import importlib
import os
import pathlib
import pkgutil
import re
import subprocess
import sys

import griffe
import pytest

import keras_inits

ROOT = pathlib.Path(__file__).resolve().parent.parent
API_PAGES = ROOT / "docs" / "api"
MKDOCS_YML = ROOT / "mkdocs.yml"
# A mkdocstrings entry, alone on its line.
ENTRY = re.compile(r"^::: *(\S+) *$", re.MULTILINE)
# An autorefs cross-reference, `[text][identifier]`, to keras_inits.
REFERENCE = re.compile(r"\]\[(keras_inits(?:\.\w+)*)\]")
# A clean build takes about 10 s on a shared 2-core machine.
BUILD_TIMEOUT = 600


def public_faces():
    """The names of the package's public faces: `keras_inits`, then each
    public subpackage (no part of its name starts with `_`) whose
    `__init__` has `__all__`, at any depth."""
    faces = ["keras_inits"]
    for info in pkgutil.walk_packages(
        keras_inits.__path__, "keras_inits.", onerror=_raise
    ):
        parts = info.name.split(".")
        # Never imported: `__main__` would run the command line.
        if not info.ispkg or any(part.startswith("_") for part in parts):
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            faces.append(info.name)
    return faces


def _raise(name):
    raise ImportError(f"Could not import {name} while walking keras_inits")


def page_of(face):
    """The reference page of `face`: `docs/api/initializers.md` for
    `keras_inits.initializers`, `docs/api/keras_inits.md` for the top."""
    if face == "keras_inits":
        return API_PAGES / "keras_inits.md"
    return API_PAGES / (face.removeprefix("keras_inits.") + ".md")


def entry_problems(face, names, text):
    """What is wrong with the entries of `face`'s page `text`, which must
    be exactly `face` and `face.<name>` for each of `names`, each once: a
    list of messages, empty when nothing is."""
    entries = ENTRY.findall(text)
    expected = {face} | {f"{face}.{name}" for name in names}
    problems = []
    missing = sorted(expected - set(entries))
    if missing:
        problems.append(f"no `::: NAME` entry for {missing}")
    extra = sorted(set(entries) - expected)
    if extra:
        problems.append(f"entries for names not in {face}.__all__: {extra}")
    repeated = sorted({e for e in entries if entries.count(e) > 1})
    if repeated:
        problems.append(f"entries given more than once: {repeated}")
    return problems


def homes(module, name, faces):
    """The entries that document `module.name`: `keras_inits.<name>` for a
    face itself, else each subpackage face that exports the same object
    under the same name (usually one)."""
    if f"keras_inits.{name}" in faces:
        return [f"keras_inits.{name}"]
    value = getattr(module, name)
    found = []
    for face in faces[1:]:
        face_module = importlib.import_module(face)
        if name in face_module.__all__ and getattr(face_module, name) is value:
            found.append(f"{face}.{name}")
    return found


def top_level_problems(names, homes_of, documented, text):
    """What is wrong with the top-level page `text`: each of `names` with
    homes (`homes_of[name]`, entries of the subpackages' pages) must be
    linked to one of them, a name without any must have its own
    `::: keras_inits.<name>` entry, and every link must reach an entry of
    `documented`. A list of messages, empty when nothing is."""
    own = [name for name in names if not homes_of[name]]
    problems = entry_problems("keras_inits", own, text)
    references = set(REFERENCE.findall(text))
    unlinked = sorted(
        name
        for name in names
        if homes_of[name] and not references & set(homes_of[name])
    )
    if unlinked:
        problems.append(
            "no link to the entry of "
            + ", ".join(f"{n} (`[{n}][{homes_of[n][0]}]`)" for n in unlinked)
        )
    dangling = sorted(references - documented)
    if dangling:
        problems.append(f"links to entries no page holds: {dangling}")
    return problems


FACES = public_faces()


def test_the_walk_finds_every_face():
    # A control: the walk must see the subpackages known today, so that a
    # walk that found nothing cannot pass every test below.
    assert set(FACES) >= {
        "keras_inits",
        "keras_inits.cli",
        "keras_inits.diagnostics",
        "keras_inits.experiments",
        "keras_inits.initializers",
        "keras_inits.model",
        "keras_inits.random",
        "keras_inits.recipes",
    }


@pytest.mark.parametrize("face", FACES)
def test_each_face_has_a_page_in_the_nav(face):
    page = page_of(face)
    assert page.is_file(), f"{face} has no reference page: {page}"
    nav_entry = page.relative_to(ROOT / "docs").as_posix()
    assert re.search(
        rf":\s*{re.escape(nav_entry)}\s*$", MKDOCS_YML.read_text(), re.M
    ), f"mkdocs.yml's nav lacks {nav_entry}, the page of {face}"


@pytest.mark.parametrize("face", FACES[1:])
def test_each_face_page_documents_exactly_its_names(face):
    module = importlib.import_module(face)
    problems = entry_problems(face, module.__all__, page_of(face).read_text())
    assert not problems, f"{page_of(face).name}: " + "; ".join(problems)


def test_the_top_level_page_links_each_name_to_its_entry():
    homes_of = {
        name: homes(keras_inits, name, FACES) for name in keras_inits.__all__
    }
    documented = set()
    for face in FACES[1:]:
        documented.update(ENTRY.findall(page_of(face).read_text()))
    text = page_of("keras_inits").read_text()
    problems = top_level_problems(
        keras_inits.__all__, homes_of, documented, text
    )
    assert not problems, "keras_inits.md: " + "; ".join(problems)


def test_the_checks_name_what_is_wrong():
    # A control of the checks themselves: a name without its entry, an
    # entry for a name that is not public, a repeated entry, a top-level
    # name without its link and a link to nothing are each reported.
    page = "::: pkg.face\n::: pkg.face.a\n::: pkg.face.gone\n::: pkg.face.a\n"
    assert entry_problems("pkg.face", ["a", "b"], page) == [
        "no `::: NAME` entry for ['pkg.face.b']",
        "entries for names not in pkg.face.__all__: ['pkg.face.gone']",
        "entries given more than once: ['pkg.face.a']",
    ]
    top = (
        "::: keras_inits\n[`a`][keras_inits.face.a], [`z`][keras_inits.face.z]"
    )
    homes_of = {"a": ["keras_inits.face.a"], "b": ["keras_inits.face.b"]}
    documented = {"keras_inits.face.a", "keras_inits.face.b"}
    assert top_level_problems(["a", "b"], homes_of, documented, top) == [
        "no link to the entry of b (`[b][keras_inits.face.b]`)",
        "links to entries no page holds: ['keras_inits.face.z']",
    ]


def test_every_public_name_has_a_docstring():
    # Read as mkdocstrings reads it (griffe, from the source), so that a
    # constant or type alias counts its attribute docstring, the string
    # right after its assignment.
    package = griffe.load("keras_inits", search_paths=[str(ROOT)])
    undocumented = []
    for face in FACES[1:]:
        module = importlib.import_module(face)
        for name in module.__all__:
            target = package[f"{face}.{name}".removeprefix("keras_inits.")]
            if target.is_alias:
                target = target.final_target
            if not target.docstring or not target.docstring.value.strip():
                undocumented.append(f"{face}.{name}")
    assert not undocumented, (
        f"public names without a docstring: {undocumented}"
    )


@pytest.mark.e2e
def test_site_builds(tmp_path):
    # From another folder than the checkout's: mkdocs.yml's paths are
    # relative to itself. The site goes to a temporary folder.
    environment = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--config-file",
        str(MKDOCS_YML),
        "--site-dir",
        str(tmp_path / "site"),
    ]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    # The warnings that failed it, without mkdocs' progress lines.
    warnings = [
        line
        for line in result.stderr.splitlines()
        if not line.startswith("INFO")
    ]
    status = result.returncode
    assert status == 0, "\n".join(warnings[-40:])
    assert (
        tmp_path / "site" / "api" / "initializers" / "index.html"
    ).is_file()
