"""The machine a benchmark ran on, printed first by every benchmark: these
machines are shared, so a ratio means little without the cores and load
it was measured with.

Versions are read from the installed distributions: importing a backend
here would cost seconds and, for TensorFlow, a screen of logs.
"""

import os
import platform
from importlib import metadata

# Distributions that may provide each backend, in the order to look.
DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly"),
    "jax": ("jax", "jaxlib"),
    "torch": ("torch",),
    "numpy": ("numpy",),
}


def version(name):
    """The installed version of distribution `name`, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def print_header(backends):
    """Prints the cores, the load average and the versions of Python,
    Keras, keras_inits and each of `backends`."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"cores: len(os.sched_getaffinity(0))="
        f"{len(os.sched_getaffinity(0))}, os.cpu_count()={os.cpu_count()};"
        f" load average {load}"
    )
    versions = [
        f"python {platform.python_version()}",
        f"keras {version('keras')}",
        f"keras_inits {version('keras-inits')}",
    ]
    for backend in backends:
        versions += [
            f"{name} {version(name)}"
            for name in DISTRIBUTIONS[backend]
            if version(name) is not None
        ]
    print("versions: " + ", ".join(versions), flush=True)
