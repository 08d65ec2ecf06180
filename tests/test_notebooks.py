"""The notebooks in notebooks/ run on the active backend and are committed
with their outputs.

Each is executed in a fresh Jupyter kernel (nbclient) that gets this
process's Keras backend. The suite runs on every backend in turn, but a
notebook executes on one: TensorFlow, whose outputs are the committed ones.
None of them is about a backend, so executing them again on the others
would cost minutes and test nothing the rest of the suite does not; a
notebook that is about a backend goes into `BACKENDS` with the backends it
executes on. The comparison notebooks' cells tagged `parameters` are
replaced by shorter runs here, so each keeps its full run for readers and
the suite stays quick.

After changing a notebook, re-execute it in place (outputs included) with

    KERAS_BACKEND=tensorflow python -P tests/test_notebooks.py [NAME ...]

(`-P`: the script's folder, `tests/`, off the import path, where
`tests/random/` would hide the standard library's `random`.)
"""

import os
import pathlib
import sys

import keras
import nbformat
import pytest
from nbclient import NotebookClient

FOLDER = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
NAMES = sorted(path.stem for path in FOLDER.glob("*.ipynb"))
# The backend the notebooks execute on in the suite: their committed
# outputs are TensorFlow's.
COMMITTED_BACKEND = "tensorflow"
# Notebooks about a backend, and the backends each executes on; none today.
BACKENDS = {}
QUICK_PARAMETERS = {
    "03_compare_initializers": (
        'INITIALIZERS = "Zeros,HeUniform"\nEPOCHS = 3\nDEPTH = 3\nSEED = 0'
    ),
    "04_transformer_recipes": (
        'RECIPES = "default,gpt2_zero_head"\nSTEPS = 20\nEVALUATIONS = 2\n'
        "SEEDS = 1"
    ),
}


def execute(name, parameters=None, timeout=900):
    """Runs notebook `name` top to bottom and returns it with its outputs."""
    notebook = nbformat.read(FOLDER / f"{name}.ipynb", as_version=4)
    if parameters is not None:
        tagged = [
            cell
            for cell in notebook.cells
            if "parameters" in cell.metadata.get("tags", ())
        ]
        assert len(tagged) == 1, f"{name} needs one cell tagged `parameters`"
        tagged[0].source = parameters
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(FOLDER)}},
        # What C++ libraries write to the kernel's stderr (TensorFlow 2.21's
        # start-up notices, which its log level does not silence) goes to
        # the terminal, not into the first cell's outputs; Python's own
        # warnings still show in the notebook.
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    )
    # The kernel is a new process: it gets the backend explicitly, since
    # this one may have it from ~/.keras/keras.json rather than the
    # environment. Figures use the inline backend, which renders with Agg.
    client.execute(
        env={
            **os.environ,
            "KERAS_BACKEND": keras.backend.backend(),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
    )
    return notebook


def _outputs(notebook):
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    ]


def _images(notebook):
    return sum(
        "image/png" in output.get("data", {}) for output in _outputs(notebook)
    )


def test_there_are_four_notebooks():
    assert NAMES == [
        "01_catalogue_tour",
        "02_save_load_reinitialize",
        "03_compare_initializers",
        "04_transformer_recipes",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_committed_with_outputs(name):
    notebook = nbformat.read(FOLDER / f"{name}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    # Run once, top to bottom, in a fresh kernel: counts 1, 2, 3, ...
    assert [cell.execution_count for cell in code] == list(
        range(1, len(code) + 1)
    )
    assert not [o for o in _outputs(notebook) if o.output_type == "error"]
    assert _images(notebook) >= 2
    # No Keras or TensorFlow warning noise left in what readers see.
    streams = [o for o in _outputs(notebook) if o.output_type == "stream"]
    assert not [o for o in streams if o.name == "stderr"]


@pytest.mark.e2e
@pytest.mark.parametrize("name", NAMES)
def test_executes(name):
    backends = BACKENDS.get(name, (COMMITTED_BACKEND,))
    if keras.backend.backend() not in backends:
        why = (
            "the backends it is about"
            if name in BACKENDS
            else "it is about no backend, and its committed outputs are "
            f"{COMMITTED_BACKEND}'s"
        )
        pytest.skip(
            f"notebooks/{name}.ipynb executes on "
            f"{', '.join(backends)} only: {why}"
        )
    notebook = execute(name, QUICK_PARAMETERS.get(name))
    # nbclient raises on the first failing cell; what remains to check is
    # that every figure was drawn.
    committed = nbformat.read(FOLDER / f"{name}.ipynb", as_version=4)
    assert _images(notebook) == _images(committed)


if __name__ == "__main__":
    for name in sys.argv[1:] or NAMES:
        if keras.backend.backend() not in BACKENDS.get(
            name, (COMMITTED_BACKEND,)
        ):
            print(
                f"note: notebooks/{name}.ipynb is committed with "
                f"{COMMITTED_BACKEND} outputs; this runs on "
                f"{keras.backend.backend()}",
                file=sys.stderr,
            )
        nbformat.write(execute(name), FOLDER / f"{name}.ipynb")
        print(
            f"executed notebooks/{name}.ipynb "
            f"({keras.backend.backend()} backend)"
        )
