"""The python blocks of README.md and of the manual run as written, each in
a fresh Python process.

Every ```python block of README.md and of each page under docs/ (at any
depth) is extracted, in order, and run with `python -c BLOCK` in a child
process whose working directory is a temporary folder (files a block
writes stay out of the repository), whose KERAS_BACKEND is the backend
this test session runs on, and whose PYTHONPATH starts with this checkout
(the blocks import this keras_inits). A block passes when it exits with
status 0; a failure shows its stderr. Each test's id is the page and the
line of the block's opening fence (`docs/reinitialize.md:14`), so a
failure names the block. A block identical to an earlier one, marker
included (the short tour is both README's and the site's home page's),
runs once, under the earlier one's id.

A block that must not run on every backend, or needs environment variables
set before Keras and its backend start, is marked by an HTML comment on the
line right before its fence (invisible on a rendered page):

    <!-- docs-test: backends=jax env=XLA_FLAGS=--xla_force_host_platform_device_count=8 -->
    ```python

Words of the marker, separated by spaces:

- `backends=NAME[,NAME...]`: the Keras backends the block runs on; on the
  others its test is skipped, with a reason naming them. Without it the
  block runs on all four.
- `env=NAME=VALUE`: one variable set in the child's environment (repeat the
  word for more; values cannot contain spaces).

Any other word or an unknown backend makes this file fail to collect,
naming the page and line; a `<!-- ...-test: -->` comment that is not a
well-formed `docs-test:` marker on the line right before a ```python fence
(README's former `readme-test:` included) fails
`test_markers_are_well_formed`. So a misspelt marker cannot silently run
or skip a block. There is no marker that skips a block everywhere: a block
that cannot run belongs in a ```bash or plain ``` fence.

`EXPECTED_BLOCKS` is the number of python blocks each page holds (a page
not listed holds none): adding or removing one means updating it, so a
parser that finds nothing, or a page that loses its examples, cannot pass
by testing nothing.
"""

import dataclasses
import os
import pathlib
import re
import subprocess
import sys

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPECTED_BLOCKS = {
    "README.md": 5,
    "docs/diagnostics.md": 1,
    "docs/extending.md": 2,
    "docs/index.md": 5,
    "docs/large-models.md": 1,
    "docs/lsuv.md": 1,
    "docs/portable-seeds.md": 1,
    "docs/recipes.md": 2,
    "docs/reinitialize.md": 1,
    "docs/saving-loading.md": 1,
}
BACKENDS = ("tensorflow", "jax", "torch", "numpy")
BACKEND = keras.backend.backend()
# Child processes: the blocks run on TensorFlow (`e2e`), and on every
# backend the first (README's opening: a name in a layer) and those marked
# for some backends only (`smoke`, in `test_block_runs`).
pytestmark = pytest.mark.e2e
# The slowest block takes about 30 s on a shared 2-core machine.
TIMEOUT = 300

FENCE = re.compile(r"^```python\s*$")
MARKER = re.compile(r"^<!--\s*docs-test:(.*?)-->\s*$")
# Anything that looks like a marker of this test, well-formed or not.
MARKER_LIKE = re.compile(r"<!--\s*[\w-]*-test\s*:")


@dataclasses.dataclass(frozen=True)
class Block:
    """One ```python block of a page.

    Attributes:
        page: the page's path from the repository's root, with `/`.
        line: the 1-based line of its opening fence.
        source: the code between the fences.
        backends: the backends it runs on (its marker's, else all four).
        env: the variables its marker sets in the child's environment.
    """

    page: str
    line: int
    source: str
    backends: tuple[str, ...] = BACKENDS
    env: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def pages():
    """README.md, then every Markdown page under docs/, as paths from the
    repository's root."""
    found = sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "docs").rglob("*.md")
    )
    return ["README.md", *found]


def read(page):
    return (ROOT / page).read_text(encoding="utf-8")


def parse_marker(text, where):
    """Returns `(backends, env)` of a marker's text after `docs-test:`;
    `where` (`page:line`) names it in errors."""
    backends, env = BACKENDS, {}
    for word in text.split():
        key, _, value = word.partition("=")
        if key == "backends" and value:
            backends = tuple(value.split(","))
            unknown = sorted(set(backends) - set(BACKENDS))
            if unknown:
                raise ValueError(
                    f"{where}: unknown backends {unknown} in docs-test "
                    f"marker. Expected some of {list(BACKENDS)}."
                )
        elif key == "env" and re.fullmatch(r"[A-Za-z_]\w*=.*", value):
            name, _, setting = value.partition("=")
            env[name] = setting
        else:
            raise ValueError(
                f"{where}: invalid word {word!r} in docs-test marker. "
                "Expected backends=NAME[,NAME...] or env=NAME=VALUE."
            )
    return backends, env


def extract(text, page):
    """Returns the python blocks of `text`, the page `page`, in order."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise ValueError(f"{page}:{i + 1}: unclosed ```python block.")
            marker = MARKER.match(lines[i - 1]) if i else None
            backends, env = (
                parse_marker(marker.group(1), f"{page}:{i}")
                if marker
                else (BACKENDS, {})
            )
            blocks.append(
                Block(
                    page=page,
                    line=i + 1,
                    source="\n".join(lines[i + 1 : end]) + "\n",
                    backends=backends,
                    env=env,
                )
            )
            i = end
        i += 1
    return blocks


def plan(block, backend):
    """Returns `(runs, reason)`: whether `block` runs on `backend`, and why
    not when it does not."""
    if backend in block.backends:
        return True, ""
    return False, (
        f"{block.name} runs only on {', '.join(block.backends)} (its "
        f"docs-test marker); this run is on {backend}"
    )


BLOCKS = [block for page in pages() for block in extract(read(page), page)]


def distinct(blocks):
    """The first of each set of identical blocks (source and marker), in
    order: what runs."""
    first = {}
    for block in blocks:
        key = (block.source, block.backends, tuple(block.env.items()))
        first.setdefault(key, block)
    return list(first.values())


DISTINCT = distinct(BLOCKS)


def test_each_page_has_its_expected_python_blocks():
    missing = sorted(set(EXPECTED_BLOCKS) - set(pages()))
    assert not missing, (
        f"EXPECTED_BLOCKS names pages that do not exist: {missing}"
    )
    for page in pages():
        text = read(page)
        found = [b for b in BLOCKS if b.page == page]
        fences = re.findall(r"^```python\s*$", text, re.M)
        expected = EXPECTED_BLOCKS.get(page, 0)
        assert len(found) == len(fences) == expected, (
            f"found {len(found)} blocks and {len(fences)} ```python fences "
            f"in {page}, expected {expected}: update EXPECTED_BLOCKS if "
            "you added or removed a block"
        )
        assert all(block.source.strip() for block in found)
        assert [b.line for b in found] == [
            n + 1
            for n, line in enumerate(text.splitlines())
            if FENCE.match(line)
        ]


def test_extract_reads_blocks_markers_and_an_unclosed_fence():
    text = (
        "# A page\n\n```python\nx = 1\n```\n\n```bash\nls\n```\n"
        "<!-- docs-test: backends=jax,torch env=A=1 env=B=x=y -->\n"
        "```python\ny = 2\n\nz = 3\n```\n"
    )
    assert extract(text, "docs/a.md") == [
        Block("docs/a.md", 3, "x = 1\n"),
        Block(
            "docs/a.md",
            11,
            "y = 2\n\nz = 3\n",
            ("jax", "torch"),
            {"A": "1", "B": "x=y"},
        ),
    ]
    with pytest.raises(ValueError, match=r"^docs/a.md:3: unclosed"):
        extract("# A page\n\n```python\nx = 1\n", "docs/a.md")


def test_markers_are_well_formed():
    for page in pages():
        lines = read(page).splitlines()
        for n, line in enumerate(lines):
            if MARKER_LIKE.search(line):
                marker = MARKER.match(line)
                assert marker, (
                    f"{page}:{n + 1}: malformed marker (expected "
                    "`<!-- docs-test: ... -->` alone on its line)"
                )
                assert n + 1 < len(lines) and FENCE.match(lines[n + 1]), (
                    f"{page}:{n + 1}: a docs-test marker must be on the "
                    "line right before a ```python fence"
                )
                parse_marker(marker.group(1), f"{page}:{n + 1}")
    with pytest.raises(
        ValueError, match="^docs/a.md:1: invalid word 'backend=jax'"
    ):
        parse_marker(" backend=jax ", "docs/a.md:1")
    with pytest.raises(
        ValueError, match=r"^README.md:2: unknown backends \['jaxx'\]"
    ):
        parse_marker(" backends=jax,jaxx ", "README.md:2")
    assert not MARKER.match("<!-- readme-test: backends=jax -->")
    assert MARKER_LIKE.search("<!-- readme-test: backends=jax -->")


def test_every_block_runs_here_or_is_skipped_with_a_reason():
    plans = [plan(block, BACKEND) for block in BLOCKS]
    assert all(runs or reason for runs, reason in plans)
    assert all(BACKEND in reason for runs, reason in plans if not runs)
    # Unmarked blocks run on every backend; only marked ones may be skipped.
    skipped = {b.name for b, (runs, _) in zip(BLOCKS, plans) if not runs}
    marked = {b.name for b in BLOCKS if b.backends != BACKENDS}
    assert skipped <= marked
    assert any(runs for runs, _ in plans)


def test_a_block_identical_to_an_earlier_one_runs_once():
    a, b = (
        Block("README.md", 7, "x = 1\n"),
        Block("docs/index.md", 7, "x = 1\n"),
    )
    marked = Block("docs/a.md", 3, "x = 1\n", ("jax",))
    assert distinct([a, marked, b]) == [a, marked]


@pytest.mark.parametrize(
    "block",
    [
        # A block marked for some backends only is a smoke test: the
        # suite runs the end-to-end tests on TensorFlow alone, where a
        # JAX-only block would never run. So is the first, the quickstart.
        pytest.param(
            block,
            id=block.name,
            marks=[pytest.mark.smoke]
            if block.backends != BACKENDS or block is DISTINCT[0]
            else [],
        )
        for block in DISTINCT
    ],
)
def test_block_runs(block, tmp_path):
    runs, reason = plan(block, BACKEND)
    if not runs:
        pytest.skip(reason)
    env = dict(os.environ, KERAS_BACKEND=BACKEND)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env.update(block.env)
    result = subprocess.run(
        [sys.executable, "-c", block.source],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, (
        f"{block.name} exited with status {result.returncode} on "
        f"{BACKEND}:\n{block.source}\n--- stderr ---\n"
        f"{result.stderr[-4000:]}"
    )
