"""Initializers, `reinitialize` and recipes under JAX's multi-process
runtime (issue 28): two processes of 4 CPU devices each, joined by
`keras.distribution.initialize` on localhost with gloo collectives, against
one process of 8 devices, on the same (1, 8) mesh.

`_multiprocess_child.py` runs in three processes at once: the reference
(one process, 8 devices) and the two workers. Each builds the same models,
reinitializes them (with `seed=0`, with `recipe="gpt2"`, and with
`backup=True` and an assignment that keeps failing), and saves the values
it holds: the reference every value, a worker its addressable shards. A
worker's shards must equal the reference's values at their index, bit for
bit (the compiled draw is the same program, partitioned the same way), and
its report the reference's moments.

Memory: the workers also build two sharded (6144, 6144) float32 kernels
(288 MiB in all, 144 MiB per process) and reinitialize them, sampling the
resident set. A process may add at most what it holds plus 1.5x its largest
variable's part (the new draw of one variable lives beside the old values
until assigned): 252 MiB, less than the full weights, so a process that
drew or held the other process's shards would fail. glibc raises its mmap
threshold to the size of a freed buffer, after which freed shard-sized
buffers stay resident; MALLOC_MMAP_THRESHOLD_ fixes the threshold, so the
resident set follows the memory the process actually holds.
"""

import os
import pickle
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution shards variables only on JAX",
)

_TIMEOUT = 300
_WIDTH = 6144
_CHILD = "tests._internal._multiprocess_child"
# Variables each process must hold only part of: the layout maps' rules.
_SPLIT = {
    "keras_inits": [
        "tokens/embeddings",
        "fc/kernel",
        "fc/bias",
        "proj/kernel",
    ],
    "recipe": [
        "tokens/embeddings",
        "fc0/kernel",
        "proj1/kernel",
        "head/kernel",
    ],
}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The reference's results, and the two workers', from one launch."""
    folder = tmp_path_factory.mktemp("multiprocess")
    port = str(_free_port())
    environment = dict(
        os.environ,
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        TF_CPP_MIN_LOG_LEVEL="2",
        MALLOC_MMAP_THRESHOLD_="65536",  # see the module's docstring
    )
    launches = {
        "reference": (8, ["0"]),
        "worker0": (4, [str(_WIDTH), "0", port]),
        "worker1": (4, [str(_WIDTH), "1", port]),
    }
    children = {}
    try:
        for name, (devices, arguments) in launches.items():
            children[name] = subprocess.Popen(
                [sys.executable, "-m", _CHILD, str(folder / name), *arguments],
                env=dict(
                    environment,
                    XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        errors = {
            name: child.communicate(timeout=_TIMEOUT)[1]
            for name, child in children.items()
        }
    finally:
        for child in children.values():  # a worker left waiting for the other
            if child.poll() is None:
                child.kill()
                child.wait()
    for name, child in children.items():
        assert child.returncode == 0, f"{name}:\n{errors[name][-3000:]}"
    results = {}
    for name in launches:
        with open(folder / name, "rb") as file:
            results[name] = pickle.load(file)
    return results


def _workers(runs):
    return [runs["worker0"], runs["worker1"]]


def test_the_processes_share_one_mesh_of_8_devices(runs):
    assert runs["reference"]["devices"] == 8
    for worker in _workers(runs):
        assert (worker["devices"], worker["local"]) == (8, 4)


@pytest.mark.parametrize(
    "stage, model",
    [
        ("built", "keras_inits"),
        ("reinitialized", "keras_inits"),
        ("after-restore", "keras_inits"),
        ("recipe", "recipe"),
    ],
)
def test_each_process_holds_its_shards_of_what_one_process_draws(
    runs, stage, model
):
    reference = runs["reference"][stage]
    for worker in _workers(runs):
        assert set(worker[stage]) == set(reference)
        for path, pieces in worker[stage].items():
            for index, values in pieces:
                expected = reference[path][tuple(slice(*i) for i in index)]
                np.testing.assert_array_equal(values, expected, err_msg=path)
    # The split variables: each process holds a part, the two parts
    # together every value once.
    for path in _SPLIT[model]:
        size = reference[path].size
        held = [
            sum(values.size for _, values in worker[stage][path])
            for worker in _workers(runs)
        ]
        assert held == [size // 2, size // 2], (path, held)


@pytest.mark.parametrize("stage", ["reinitialized", "recipe"])
def test_the_report_measures_every_process_shards(runs, stage):
    # Before this change, each process measured its own shards alone.
    reference = runs["reference"][f"{stage}-moments"]
    for worker in _workers(runs):
        measured = worker[f"{stage}-moments"]
        assert set(measured) == set(reference)
        for path, moments in measured.items():
            # The decoder's values before the recipe are Keras' own
            # initializers', seeded differently in the reference.
            compared = slice(0, 4) if stage == "reinitialized" else slice(2, 4)
            # Sums in float32 chunks, added in a different order: a few
            # float32 ulps.
            np.testing.assert_allclose(
                moments[compared],
                reference[path][compared],
                rtol=1e-5,
                atol=1e-9,
                err_msg=path,
            )


def test_a_backup_is_restored_in_every_process(runs):
    # Before this change, `backup=True` read every variable whole, which
    # no process can where it spans processes: a RuntimeError.
    for name in ("reference", "worker0", "worker1"):
        assert runs[name]["restored"].startswith(
            "reinitialize: the model is untouched: the variables already "
            "re-drawn were restored from the backup"
        ), runs[name]["restored"]


@pytest.mark.parametrize("step", ["build", "reinitialize", "recipe"])
def test_each_process_draws_and_holds_only_its_shards(runs, step):
    for worker in _workers(runs):
        memory = worker["memory"]
        bound = memory["held"] + 1.5 * memory["largest_variable"]
        # Meaningful: the process's half of the weights, plus a draw of
        # every value, would exceed it.
        assert memory["held"] == memory["weights"] // 2
        assert memory["weights"] > bound
        assert memory["steps"][step] <= bound, memory
