"""The second pass of `reinitialize`: assign the checked draws, all or
nothing, and measure each variable before and after (`_moments`)."""

import concurrent.futures
import functools
import math
import signal
import threading
from collections.abc import Callable
from typing import cast

import keras

from keras_inits._internal import allocator
from keras_inits._internal import keras_internals
from keras_inits._internal import limits
from keras_inits._internal import sharding
from keras_inits._internal.arrays import in_dtype
from keras_inits.model import _drawn
from keras_inits.model._drawn import DrawnFrom
from keras_inits.model._moments import moments
from keras_inits.model._moments import spare_cores
from keras_inits.model._planning import Plan
from keras_inits.model._report import ReinitializedVariable


def apply_plans(
    plans: list[Plan | None],
    backup: bool,
    measure: bool = True,
    drawn: dict[int, DrawnFrom] | None = None,
) -> list[ReinitializedVariable]:
    """Assigns each plan's draw, one variable at a time, dropping each kept
    value once assigned (its entry of `plans` becomes None). Returns one
    `ReinitializedVariable` per plan, with the moments of the values before
    and after (NaN with `measure=False`). Each assigned variable's
    `_drawn` record becomes its entry of `drawn` (variable id ->
    `DrawnFrom`, for the variables a recipe set), else None: its layer's
    own initializer.

    Never leaves a mixture of old and new weights when it can help it:

    - Ctrl-C (a KeyboardInterrupt by Python's default handler, in the main
      thread) is held until the pass ends, then raised.
    - An assignment that raises an `Exception` (a backend's error, a
      device's) or a KeyboardInterrupt (from another handler or thread)
      is retried once the others are made, and the error re-raised after:
      the draws are checked and replayable, so the model ends wholly
      reinitialized.
    - A `MemoryError`, or another exception that is not an `Exception`
      (`SystemExit`): the pass stops at once. Drawing on after running out
      of memory would risk the operating system killing the whole
      process, and with it everything the user has not saved; and
      `SystemExit` asks the program to stop.
    - When the pass stops or a variable cannot be assigned at all, the
      changed variables are restored from the backup (`backup=True`), or
      named in the error's note.
    """
    # No entry is None yet: each becomes None once its draw is assigned.
    variables = [cast(Plan, plan).variable for plan in plans]
    saved = [sharding.saved(v) for v in variables] if backup else None
    drawn = {} if drawn is None else drawn
    recorded = [_drawn.drawn_from(v) for v in variables]  # to restore
    # Each assigned plan's row, once its variable is measured (`_assign`).
    row_makers: list[Callable[[], ReinitializedVariable] | None]
    row_makers = [None] * len(plans)
    failed = []  # indices of the plans not assigned
    first_error = None
    stopped = False
    # Variables are measured in another thread while the next is drawn,
    # on the cores the draw leaves (`spare_cores`): more threads than cores
    # would slow the draw more than they speed the measurement. Those of
    # TensorFlow use every core, and its threads wait for work spinning:
    # there a measurement beside a draw slows both.
    if keras.backend.backend() in _MEASURED_BESIDE_DRAWS:
        measuring = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="keras_inits.reinitialize"
        )
        measured = functools.partial(moments, cores=spare_cores())
    else:
        measuring = _Inline()
        measured = moments
    if not measure:
        measured = _unmeasured
    freed = 0  # bytes of values replaced since memory was last released
    release_every = min(
        RELEASE_EVERY, max(map(_size_in_bytes, variables), default=0) // 2
    )
    with _HeldInterrupts() as interrupts, measuring:
        for attempt in range(2):
            pending = failed if attempt else range(len(plans))
            failed = []
            for i in pending:
                if stopped:
                    failed.append(i)
                    continue
                try:
                    row_makers[i] = _assign(
                        plans[i], measuring, measured, measure
                    )
                    plans[i] = None  # its kept value, if any, is not needed
                    _drawn.record(variables[i], drawn.get(id(variables[i])))
                    freed += _size_in_bytes(variables[i])
                    if freed >= release_every:
                        allocator.release_freed_memory()
                        freed = 0
                except MemoryError as error:
                    first_error = first_error or error
                    stopped = True
                    failed.append(i)
                except (Exception, KeyboardInterrupt) as error:
                    first_error = first_error or error
                    failed.append(i)
                except BaseException as error:  # SystemExit
                    first_error = error
                    stopped = True
                    failed.append(i)
            if not failed or stopped:
                break
        if failed and saved is not None:  # backup=True
            for variable, row, values, was in zip(
                variables, row_makers, saved, recorded
            ):
                if row is not None:
                    variable.assign(sharding.restored(values))
                    _drawn.record(variable, was)
    assigned = [maker is not None for maker in row_makers]
    # The measurements after the assignments are read here: one that
    # fails fails after the values changed, and gets the note too.
    rows = []
    for maker in row_makers:
        try:
            rows.append(None if maker is None else maker())
        except Exception as error:
            first_error = first_error or error
            rows.append(None)
    # A Ctrl-C held through the pass is raised, even after another error:
    # the user asked to stop; that error goes into the note.
    interrupt = interrupts.error()
    error = interrupt or first_error
    if error is None:  # every plan was assigned: no row is None
        return [row for row in rows if row is not None]
    if not failed:
        state = (
            f"the model is wholly reinitialized: all {len(rows)} "
            "selected variables were re-drawn before the error was "
            "re-raised"
        )
    elif not any(assigned):
        state = "the model is untouched: no variable was re-drawn"
    elif backup:
        state = (
            "the model is untouched: the variables already re-drawn "
            "were restored from the backup"
        )
    else:
        changed = [v.path for v, done in zip(variables, assigned) if done]
        state = (
            f"the model is PART-CHANGED: {len(changed)} of {len(rows)} "
            f"variables were re-drawn ({changed}) and the others could "
            "not be; pass `backup=True` to have them restored"
        )
    note = f"reinitialize: {state}."
    if interrupt is not None and first_error is not None:
        note += (
            f" Before the interrupt, an assignment raised "
            f"{type(first_error).__name__}: {first_error}"
        )
    error.add_note(note)
    raise error


def refresh_adapted(layers):
    """Lets preprocessing layers whose adapted state was reset recompute
    what they derive from it once (Normalization its mean and scale), or
    they would keep using the old state."""
    for layer in layers:
        if callable(getattr(layer, "finalize_state", None)):
            layer.finalize_state()


def _assign(plan, measuring, measured, measure):
    """Assigns `plan.draw()` to its variable; returns a function that gives
    its `ReinitializedVariable` once `measuring` (an executor) has measured
    the variable before and after with `measured` (`moments`, or
    `_unmeasured` with `measure=False`)."""
    variable = plan.variable
    # The row keeps no reference to the plan: the value kept for it is let
    # go once assigned.
    path, key, name = plan.path, plan.key, plan.initializer_name
    # The old values are measured while the new ones are drawn.
    before = measuring.submit(measured, variable)
    values = _computed(plan.draw())
    before.result()  # before the values change
    values = in_dtype(values, variable.dtype)  # no copy if equal
    keras_internals.assign(variable, values, plan.fresh)
    after = measuring.submit(measured, variable)
    shape = tuple(variable.shape)

    def row():
        mean_before, std_before = before.result()
        mean_after, std_after = after.result()
        if measure:
            # A variable split among processes: each measured its own
            # shards, combined here, in the calling thread. JAX's
            # collectives must come in the same order in every process,
            # and the pass makes others (Keras' `device_put` of a new seed
            # generator's state compares it across processes).
            mean_before, std_before = sharding.combined_moments(
                variable, mean_before, std_before
            )
            mean_after, std_after = sharding.combined_moments(
                variable, mean_after, std_after
            )
        return ReinitializedVariable(
            path,
            key,
            name,
            shape,
            mean_before,
            std_before,
            mean_after,
            std_after,
        )

    return row


def _size_in_bytes(variable):
    return math.prod(variable.shape) * limits.bytes_per_value(
        keras.backend.standardize_dtype(variable.dtype)
    )


def _computed(values):
    """`values`, once computed: JAX computes asynchronously, and a loop that
    does not wait runs ahead, holding many variables' draws at once."""
    if keras.backend.backend() == "jax":
        values.block_until_ready()
    return values


def _unmeasured(variable):
    """`moments`' stand-in with `measure=False`: `(nan, nan)`, reading
    nothing."""
    return math.nan, math.nan


_MEASURED_BESIDE_DRAWS = ("jax", "torch", "numpy")
# The freed memory is given back to the system (`allocator`) each time the
# variables assigned since hold half the largest one's bytes, or this many
# if fewer: the heaps then never hold more than that, and the calls cost
# little (after every variable, 0.5 s in a 3-5 s re-draw of a
# 303M-parameter model; every 64 MiB, 0.1 s).
RELEASE_EVERY = 64 * 2**20


class _Inline:
    """An executor that runs each task at once, in the calling thread."""

    def submit(self, function, *args):
        future = concurrent.futures.Future()
        try:
            future.set_result(function(*args))
        except Exception as error:
            future.set_exception(error)
        return future

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class _HeldInterrupts:
    """Holds Ctrl-C (SIGINT) until the block ends, when Python's default
    handler is in place in the main thread (a notebook's or a script's);
    `error()` then gives the KeyboardInterrupt it held, if any."""

    def __enter__(self):
        self.received = False
        self.previous = None  # the SIGINT handler to put back, if replaced
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self.previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame):
        self.received = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def error(self):
        return KeyboardInterrupt() if self.received else None
