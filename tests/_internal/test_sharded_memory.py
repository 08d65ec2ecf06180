"""Host memory of sharded draws through Keras' `layout=` path (issue 30).

Each case runs in a child process with 8 simulated JAX devices, an
address-space limit and a timeout, so a regression fails the test instead
of taking the machine down: `_sharded_child.py` builds a Dense whose
(4096, 16384) float32 kernel (256 MiB) is sharded over the 8 devices, and
reports the peak resident memory that adds.

Every device computes only its shard, so the draw itself adds the kernel
(1.0x, measured). Building the layer adds up to ~0.7x more: Keras wraps
an initializer that takes `layout` in `jax.sharding.explicit_axes`, whose
`reshard` copies the output (Keras' own RandomNormal pays the same, on top
of its draw's 4x). Before this change the draw was evaluated on one device
while JAX traced it, and captured as a constant: 24x the kernel, and
1 GiB kernels killed the process.
"""

import json
import os
import subprocess
import sys

import keras
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution shards variables only on JAX",
)

_ADDRESS_SPACE = 8 * 2**30
_TIMEOUT = 300
# The child limits its own address space before it imports anything: a
# `preexec_fn` would make subprocess fork this process, which JAX (already
# running threads here) warns against.
_RUN_LIMITED = (
    "import resource, runpy, sys; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({_ADDRESS_SPACE}, "
    f"{_ADDRESS_SPACE})); "
    "sys.argv[0] = 'tests._internal._sharded_child'; "
    "runpy.run_module('tests._internal._sharded_child', run_name='__main__')"
)


def _measure(case, rows=4096, columns=16384):
    environment = dict(
        os.environ,
        KERAS_BACKEND="jax",
        XLA_FLAGS="--xla_force_host_platform_device_count=8",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    done = subprocess.run(
        [sys.executable, "-c", _RUN_LIMITED, case, str(rows), str(columns)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "case", ["int-seed", "seed-generator", "truncated", "portable"]
)
def test_building_a_sharded_layer_adds_about_the_kernel(case):
    measured = _measure(case)
    assert measured["devices"] == 8
    # The shards (1x) and JAX's reshard copy of them (see the docstring).
    assert measured["added"] <= 2.0 * measured["bytes"], measured


def test_reinitializing_a_sharded_layer_adds_at_most_the_kernel():
    measured = _measure("reinitialize-int-seed")
    assert measured["devices"] == 8
    assert measured["added"] <= 1.5 * measured["bytes"], measured
