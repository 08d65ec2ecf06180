"""How many threads the process may run at once, and thread pools that
survive a fork."""

import concurrent.futures
import functools
import os


def cores() -> int:
    """The number of cores this process may run on: its CPU affinity where
    the system has one (a container's or `taskset`'s cores), else every
    core of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@functools.cache
def pool(workers: int, name: str) -> concurrent.futures.ThreadPoolExecutor:
    """The pool of `workers` threads named `name`, started at its first use
    in each process (see below)."""
    return concurrent.futures.ThreadPoolExecutor(
        workers, thread_name_prefix=name
    )


# The child of an `os.fork` has none of its parent's threads: a pool it
# inherited would queue work for threads that do not exist, waiting forever
# (multiprocessing's "fork" start method, PyTorch's DataLoader workers).
# So the child starts its own pools.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=pool.cache_clear)
