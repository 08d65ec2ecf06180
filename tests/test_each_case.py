"""`tests._each_case`, which the argument table's tests loop with: every
case runs, and the test fails naming each failing case."""

import pytest

from tests._each_case import each_case


def test_every_case_runs_and_each_failure_is_named():
    ran = []
    with pytest.raises(AssertionError) as raised:
        with each_case() as cases:
            for i in range(4):
                with cases.case(f"i={i}"):
                    ran.append(i)
                    if i == 1:
                        raise TypeError("not a number")
                    if i == 2:
                        with pytest.raises(ValueError):
                            pass  # raises nothing: pytest.raises fails
    assert ran == [0, 1, 2, 3]
    message = str(raised.value)
    assert message.startswith("2 of 4 cases failed:\n"), message
    assert "  i=1: TypeError: not a number\n" in message, message
    assert "  i=2: Failed: DID NOT RAISE" in message, message
    assert isinstance(raised.value.__cause__, TypeError)


def test_passing_cases_pass_and_no_case_fails():
    with each_case() as cases:
        for i in range(3):
            with cases.case(f"i={i}"):
                assert i < 3
    assert (cases.count, cases.failures) == (3, [])
    with pytest.raises(AssertionError, match="no case ran"):
        with each_case():
            pass


def test_a_skip_ends_the_test():
    with pytest.raises(pytest.skip.Exception):
        with each_case() as cases:
            with cases.case("skipped"):
                pytest.skip("not here")
