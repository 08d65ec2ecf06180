#!/usr/bin/env bash
# One TensorFlow per install: for every extras combination README documents,
# asks pip what it would install into an empty environment (a dry run: pip
# resolves, fetching what it needs to read the packages' metadata, from its
# cache where it can, and installs nothing) and fails, naming the
# combination, if that holds two TensorFlow distributions (they share one
# `tensorflow` folder, and the second overwrites the first's files) or not
# the one TensorFlow the combination should bring.
#   bash .ci/extras.sh                 # from the repository root
# Needs the registry; about 2 minutes on 2 busy cores with pip's cache warm.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] && python=.venv/bin/python
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# One fresh venv for every dry run: with --ignore-installed pip resolves as
# if the environment were empty, and a dry run leaves it so.
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check)
# Python 3.11's bundled pip (23.2) resolves these in twice the time.
"${pip[@]}" install --quiet pip==26.3 >"$work/pip.log" 2>&1 ||
  { tail -20 "$work/pip.log"; exit 1; }
# The project's metadata built once, as a wheel (from a copy, so nothing
# is written into the checkout): a dry run of "." would build it again
# for every combination.
mkdir "$work/src"
cp -r pyproject.toml README.md LICENSE MANIFEST.in keras_inits "$work/src"
"${pip[@]}" wheel --quiet --no-deps --wheel-dir "$work/wheel" "$work/src" \
  >"$work/pip.log" 2>&1 || { tail -20 "$work/pip.log"; exit 1; }
wheel=("$work"/wheel/*.whl)

# combination | the TensorFlow distribution it must hold ("-": none).
# keras-hub requires tensorflow-text, which requires the full tensorflow
# wheel: every combination with `hub` holds `tensorflow`.
# torch==2.13.0 is passed beside the extras that need torch, as README's
# installation tells users to install it first: unpinned, pip picks the
# multi-GB CUDA build.
combinations=(
  ".                    | -"
  ".[tensorflow]        | tensorflow"
  ".[jax]               | -"
  ".[torch]             | -"
  ".[compare]           | -"
  ".[hub]               | tensorflow"
  ".[hub,tensorflow]    | tensorflow"
  ".[hub,jax]           | tensorflow"
  ".[hub,torch]         | tensorflow"
  ".[test]              | tensorflow"
  ".[docs]              | -"
  ".[tensorflow,compare] | tensorflow"
)

status=0
for row in "${combinations[@]}"; do
  combination="$(echo "${row%%|*}" | xargs)"
  expected="$(echo "${row##*|}" | xargs)"
  extra_args=()
  case "$combination" in
    *torch* | *test*) extra_args=(torch==2.13.0) ;;
  esac
  report="$work/report.json"
  start=$SECONDS
  if ! "${pip[@]}" install --quiet --dry-run --ignore-installed \
    --report "$report" "${wheel[0]}${combination#.}" "${extra_args[@]}" \
    >"$work/pip.log" 2>&1; then
    echo "FAIL $combination: pip could not resolve it:"
    tail -20 "$work/pip.log"
    status=1
    continue
  fi
  "$work/venv/bin/python" - "$combination" "$expected" "$report" \
    "$((SECONDS - start))" <<'EOF' ||
import json
import re
import sys

combination, expected, report, seconds = sys.argv[1:]
# The distributions that each install the `tensorflow` package folder.
TENSORFLOWS = re.compile(
    r"tensorflow|tensorflow-(cpu|gpu|intel|macos)|tf-nightly.*"
)
with open(report) as f:
    installs = json.load(f)["install"]
found = sorted(
    f"{name} {item['metadata']['version']}"
    for item in installs
    if TENSORFLOWS.fullmatch(
        name := re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower()
    )
)
names = [entry.split()[0] for entry in found]
wanted = [] if expected == "-" else [expected]
verdict = "ok  " if names == wanted else "FAIL"
print(f"{verdict} {combination}: {', '.join(found) or 'no TensorFlow'}"
      f" ({len(installs)} distributions, resolved in {seconds} s)")
if names != wanted:
    print(f"     expected {expected if wanted else 'no TensorFlow'}")
    sys.exit(1)
EOF
    status=1
done
echo "extras.sh: ${#combinations[@]} combinations in ${SECONDS} s"
exit $status
