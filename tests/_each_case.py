"""One test over many small cases, failing once with every failing case
named.

A table of thousands of cheap cases (every argument of every initializer
against every bad value) costs more in pytest's per-test setup, reporting
and collection than in the checks themselves. Looping inside one test per
initializer keeps each case's checks and its name in the failure, without
stopping at the first failure as a bare loop would.

    with each_case() as cases:
        for value in values:
            with cases.case(f"value={value!r}"):
                check(value)
"""

import contextlib

import pytest


class Cases:
    """The cases run so far and the failures among them."""

    def __init__(self):
        self.count = 0
        self.failures = []

    @contextlib.contextmanager
    def case(self, label):
        """Runs the block as the case `label`: any exception it raises
        (a failed assertion, `pytest.raises` finding nothing, or an error
        such as a TypeError) is kept as that case's failure, and the next
        case runs. A skip or an interrupt still ends the test."""
        self.count += 1
        try:
            yield
        except (Exception, pytest.fail.Exception) as error:
            self.failures.append((label, error))


@contextlib.contextmanager
def each_case():
    """Yields a `Cases`; on leaving, fails if any case failed, with one
    line per failing case (its label, the exception's type and message)
    and the first failure's traceback as the cause."""
    cases = Cases()
    yield cases
    if cases.failures:
        lines = [
            f"  {label}: {type(error).__name__}: {error}"
            for label, error in cases.failures
        ]
        raise AssertionError(
            f"{len(cases.failures)} of {cases.count} cases failed:\n"
            + "\n".join(lines)
        ) from cases.failures[0][1]
    assert cases.count, "no case ran"
