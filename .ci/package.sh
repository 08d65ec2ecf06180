#!/usr/bin/env bash
# The release artefacts, checked as PyPI and a user would meet them: builds
# the sdist and the wheel (outside the repository), checks their metadata
# with `twine check --strict`, checks each holds what it should (the sdist:
# what MANIFEST.in promises; the wheel: the package with py.typed, and no
# tests), installs the wheel into a fresh venv outside the repository and
# runs .ci/smoke.py there, from a directory outside it too.
#   bash .ci/package.sh      # from the repository root, after .venv exists
# The smoke venv installs the wheel with the `jax` extra and runs on JAX:
# the smallest backend that installs through one of the wheel's extras
# (pip's cache usually holds its wheels after tests/run_all.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
python=.venv/bin/python
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The tree as git sees it (tracked files and new ones not ignored), so that
# neither a stale build/ nor a local file outside git reaches the sdist,
# and the build writes nothing into the checkout.
# (A file deleted but not yet from git, or a folder, is left out.)
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do
    if [ -f "$file" ]; then printf '%s\0' "$file"; fi
  done >"$work/git-files"
mkdir "$work/src"
xargs -0 cp --parents -t "$work/src" <"$work/git-files"

echo "=== python -m build (sdist, then the wheel from the sdist) ==="
"$python" -m build --outdir "$work/dist" "$work/src" >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; exit 1; }
sdist=("$work"/dist/*.tar.gz)
wheel=("$work"/dist/*.whl)
echo "${sdist[0]##*/} ${wheel[0]##*/} in ${SECONDS}s"

echo "=== twine check --strict ==="
"$python" -m twine check --strict "${sdist[0]}" "${wheel[0]}"

echo "=== contents ==="
"$python" - "${sdist[0]}" "${wheel[0]}" "$work/git-files" <<'EOF'
import sys
import tarfile
import zipfile
from pathlib import Path

sdist, wheel, git_files = sys.argv[1:]
in_git = set(Path(git_files).read_text().split("\0")) - {""}

# What MANIFEST.in's `include` and `graft` lines name, and what setuptools
# adds itself: the package, pyproject.toml and MANIFEST.in.
named = {"pyproject.toml", "MANIFEST.in"}
folders = ["keras_inits/"]
for line in Path("MANIFEST.in").read_text().splitlines():
    command, *paths = line.split() or [""]
    if command == "include":
        named.update(paths)
    elif command == "graft":
        folders += [f"{path}/" for path in paths]
folders = tuple(folders)
promised = {f for f in in_git if f in named or f.startswith(folders)}
with tarfile.open(sdist) as tar:
    top = Path(tar.getnames()[0]).parts[0]
    in_sdist = {
        str(Path(*Path(m.name).parts[1:]))
        for m in tar.getmembers() if m.isfile()
    }
# What setuptools writes itself.
generated = {"PKG-INFO", "setup.cfg"}
extra = {
    f for f in in_sdist - promised - generated
    if not f.startswith("keras_inits.egg-info/")
}
problems = []
if missing := sorted(promised - in_sdist):
    problems.append(f"the sdist {top} lacks {missing}")
if extra:
    problems.append(f"the sdist {top} holds files outside MANIFEST.in's "
                    f"promise: {sorted(extra)}")
if caches := sorted(f for f in in_sdist if "__pycache__" in f
                    or f.endswith((".pyc", ".pyo"))):
    problems.append(f"the sdist holds caches: {caches}")

with zipfile.ZipFile(wheel) as whl:
    in_wheel = set(whl.namelist())
    entry_points = next(
        (whl.read(n).decode() for n in in_wheel
         if n.endswith(".dist-info/entry_points.txt")), "")
package = {f for f in in_git if f.startswith("keras_inits/")}
if missing := sorted(package - in_wheel):
    problems.append(f"the wheel lacks {missing}")
outside = sorted(
    f for f in in_wheel
    if not f.startswith("keras_inits/") and ".dist-info/" not in f
)
if outside:
    problems.append(f"the wheel holds files outside keras_inits/: {outside}")
if "keras-inits = keras_inits.cli:main" not in entry_points:
    problems.append(f"the wheel's console script is missing: "
                    f"entry_points.txt is {entry_points!r}")
if problems:
    sys.exit("\n".join(problems))
print(f"ok sdist: {len(in_sdist)} files, every one MANIFEST.in promises")
print(f"ok wheel: the {len(package)} files of keras_inits/ (py.typed "
      "included), no tests, the keras-inits console script")
EOF

echo "=== the wheel in a fresh venv, from outside the repository ==="
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --disable-pip-version-check \
  "${wheel[0]}[jax]" >"$work/install.log" 2>&1 ||
  { tail -40 "$work/install.log"; exit 1; }
echo "installed in ${SECONDS}s since the start"
version="$(basename "${wheel[0]}" | cut -d- -f2)"
mkdir "$work/elsewhere"
cd "$work/elsewhere"
# -I: neither PYTHONPATH nor the script's folder reaches sys.path.
KERAS_BACKEND=jax "$work/venv/bin/python" -I "$root/.ci/smoke.py" \
  "$version" "$root"
echo "package.sh passed in ${SECONDS}s"
