"""README's python blocks run as written, each in a fresh Python process.

Every ```python block of README.md is extracted, in order, and run with
`python -c BLOCK` in a child process whose working directory is a temporary
folder (files a block writes stay out of the repository), whose
KERAS_BACKEND is the backend this test session runs on, and whose
PYTHONPATH starts with this checkout (the blocks import this keras_inits).
A block passes when it exits with status 0; a failure shows its stderr.
Each test's id is the README line of the block's opening fence
(`README.md:143`), so a failure names the block.

A block that must not run on every backend, or needs environment variables
set before Keras and its backend start, is marked by an HTML comment on the
line right before its fence (invisible on a rendered README):

    <!-- readme-test: backends=jax env=XLA_FLAGS=--xla_force_host_platform_device_count=8 -->
    ```python

Words of the marker, separated by spaces:

- `backends=NAME[,NAME...]`: the Keras backends the block runs on; on the
  others its test is skipped, with a reason naming them. Without it the
  block runs on all four.
- `env=NAME=VALUE`: one variable set in the child's environment (repeat the
  word for more; values cannot contain spaces).

Any other word or an unknown backend makes this file fail to collect,
naming the line; a marker without `readme-test:` or not on the line right
before a ```python fence fails `test_readme_markers_are_well_formed`. So a
misspelt marker cannot silently run or skip a block.

`EXPECTED_BLOCKS` is the number of python blocks README holds: adding or
removing one means updating it, so a parser that finds nothing cannot pass
by testing nothing.
"""

import os
import re
import subprocess
import sys

import keras
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
EXPECTED_BLOCKS = 10
BACKENDS = ("tensorflow", "jax", "torch", "numpy")
BACKEND = keras.backend.backend()
# The slowest block takes about 30 s on a shared 2-core machine.
TIMEOUT = 300

FENCE = re.compile(r"^```python\s*$")
MARKER = re.compile(r"^<!--\s*readme-test:(.*?)-->\s*$")


def parse_marker(text, line):
    """Returns `(backends, env)` of a marker's text after `readme-test:`."""
    backends, env = BACKENDS, {}
    for word in text.split():
        key, _, value = word.partition("=")
        if key == "backends" and value:
            backends = tuple(value.split(","))
            unknown = sorted(set(backends) - set(BACKENDS))
            if unknown:
                raise ValueError(
                    f"README.md:{line}: unknown backends "
                    f"{unknown} in readme-test marker. Expected "
                    f"some of {list(BACKENDS)}."
                )
        elif key == "env" and re.fullmatch(r"[A-Za-z_]\w*=.*", value):
            name, _, setting = value.partition("=")
            env[name] = setting
        else:
            raise ValueError(
                f"README.md:{line}: invalid word {word!r} in "
                "readme-test marker. Expected "
                "backends=NAME[,NAME...] or env=NAME=VALUE."
            )
    return backends, env


def extract(text):
    """Returns README's python blocks in order, as dicts.

    Each has `line` (the 1-based line of its opening fence), `source`,
    `backends` and `env` (from the marker before it, if any).
    """
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise ValueError(
                    f"README.md:{i + 1}: unclosed ```python block."
                )
            marker = MARKER.match(lines[i - 1]) if i else None
            backends, env = (
                parse_marker(marker.group(1), i) if marker else (BACKENDS, {})
            )
            blocks.append(
                {
                    "line": i + 1,
                    "source": "\n".join(lines[i + 1 : end]) + "\n",
                    "backends": backends,
                    "env": env,
                }
            )
            i = end
        i += 1
    return blocks


def read_readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def plan(block, backend):
    """Returns `(runs, reason)`: whether `block` runs on `backend`, and why
    not when it does not."""
    if backend in block["backends"]:
        return True, ""
    return False, (
        f"README.md:{block['line']} runs only on "
        f"{', '.join(block['backends'])} (its readme-test "
        f"marker); this run is on {backend}"
    )


BLOCKS = extract(read_readme())


def test_readme_has_the_expected_python_blocks():
    text = read_readme()
    fences = re.findall(r"^```python\s*$", text, re.M)
    assert len(BLOCKS) == len(fences) == EXPECTED_BLOCKS, (
        f"found {len(BLOCKS)} blocks and {len(fences)} ```python fences in "
        f"README.md, expected {EXPECTED_BLOCKS}: update EXPECTED_BLOCKS if "
        "you added or removed a block"
    )
    assert all(block["source"].strip() for block in BLOCKS)
    assert [b["line"] for b in BLOCKS] == [
        n + 1 for n, line in enumerate(text.splitlines()) if FENCE.match(line)
    ]


def test_readme_markers_are_well_formed():
    lines = read_readme().splitlines()
    for n, line in enumerate(lines):
        if "readme-test" in line:
            assert MARKER.match(line), f"README.md:{n + 1}: malformed marker"
            assert n + 1 < len(lines) and FENCE.match(lines[n + 1]), (
                f"README.md:{n + 1}: a readme-test marker must be on the line "
                "right before a ```python fence"
            )
            parse_marker(MARKER.match(line).group(1), n + 1)
    with pytest.raises(ValueError, match="invalid word 'backend=jax'"):
        parse_marker(" backend=jax ", 1)
    with pytest.raises(ValueError, match=r"unknown backends \['jaxx'\]"):
        parse_marker(" backends=jax,jaxx ", 1)


def test_every_block_runs_here_or_is_skipped_with_a_reason():
    plans = [plan(block, BACKEND) for block in BLOCKS]
    assert all(runs or reason for runs, reason in plans)
    assert all(BACKEND in reason for runs, reason in plans if not runs)
    # Unmarked blocks run on every backend; only marked ones may be skipped.
    skipped = [b["line"] for b, (runs, _) in zip(BLOCKS, plans) if not runs]
    marked = [b["line"] for b in BLOCKS if b["backends"] != BACKENDS]
    assert set(skipped) <= set(marked)
    assert any(runs for runs, _ in plans)


@pytest.mark.parametrize(
    "block", BLOCKS, ids=[f"README.md:{b['line']}" for b in BLOCKS]
)
def test_readme_block_runs(block, tmp_path):
    runs, reason = plan(block, BACKEND)
    if not runs:
        pytest.skip(reason)
    env = dict(os.environ, KERAS_BACKEND=BACKEND)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p
    )
    env.update(block["env"])
    result = subprocess.run(
        [sys.executable, "-c", block["source"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, (
        f"README.md:{block['line']} exited with status {result.returncode} "
        f"on {BACKEND}:\n{block['source']}\n--- stderr ---\n"
        f"{result.stderr[-4000:]}"
    )
