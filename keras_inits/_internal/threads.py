"""How many threads the process may run at once, and thread pools that
survive a fork."""

import os
from typing import Any


def cores() -> int:
    """The number of cores this process may run on: its CPU affinity where
    the system has one (a container's or `taskset`'s cores), else every
    core of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def forget_at_fork(cached: Any) -> None:
    """Clears the `functools.cache` of `cached`, a function that makes a
    thread pool, in the child of every `os.fork`: the child has none of its
    parent's threads, and a pool it inherited would queue work for threads
    that do not exist, waiting forever (multiprocessing's "fork" start
    method, PyTorch's DataLoader workers)."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=cached.cache_clear)
