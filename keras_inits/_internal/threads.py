"""How many threads the process may run at once."""

import os


def cores() -> int:
    """The number of cores this process may run on: its CPU affinity where
    the system has one (a container's or `taskset`'s cores), else every
    core of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
