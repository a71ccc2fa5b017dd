"""Math built-ins of DIALECT §10.2, called through the function registry."""
import math
import random

import pytest

from botbasic.keywords.functions import call_builtin
from botbasic.runtime.errors import BasicError


class FakeContext:
    """A seeded random source, as the VM provides."""

    def __init__(self, seed: int = 1):
        self.random = random.Random(seed)


@pytest.mark.parametrize("name, args, expected", [
    ("ABS", (-3,), 3),
    ("ABS", (-2.5,), 2.5),
    ("ABS", ("-4",), 4),
    ("ABS", (None,), 0),
    ("ROUND", (2.5,), 3),
    ("ROUND", (-2.5,), -3),
    ("ROUND", (3.5,), 4),
    ("ROUND", (0.5,), 1),
    ("ROUND", (2.4,), 2),
    ("ROUND", (1.005, 2), 1.01),
    ("ROUND", (2.675, 2), 2.68),
    ("ROUND", (-1.25, 1), -1.3),
    ("ROUND", (1234.5678, -2), 1200),
    ("ROUND", ("7.5",), 8),
    ("ROUND", (7, 2), 7),
    ("INT", (2.7,), 2),
    ("INT", (-2.7,), -2),
    ("FIX", (-2.7,), -2),
    ("INT", ("9.99",), 9),
    ("INT", (5,), 5),
    ("FLOOR", (-2.1,), -3),
    ("FLOOR", (2.9,), 2),
    ("CEIL", (2.1,), 3),
    ("CEILING", (-2.9,), -2),
    ("MAX", (3, 9, 4), 9),
    ("MAX", ([3, 9, 4],), 9),
    ("MAX", (["3", "10", "9"],), 10),
    ("MAX", ('[1, 5, 2]',), 5),
    ("MAX", ([],), None),
    ("MAX", (2.5, None, 1),  2.5),
    ("MIN", (3, 9, 4), 3),
    ("MIN", ([3, -9, 4],), -9),
    ("MIN", ([],), None),
    ("MIN", (7,), 7),
    ("MOD", (7, 3), 1),
    ("MOD", (-7, 3), -1),
    ("MOD", (7, -3), 1),
    ("MOD", (7.5, 2), 1.5),
    ("SGN", (-5,), -1),
    ("SGN", (0,), 0),
    ("SGN", (0.1,), 1),
    ("SQR", (16,), 4.0),
    ("SQRT", (2.25,), 1.5),
    ("POW", (2, 10), 1024),
    ("POWER", (9, 0.5), 3.0),
    ("LOG", (math.e,), 1.0),
    ("LOG10", (1000,), 3.0),
    ("EXP", (0,), 1.0),
    ("SIN", (0,), 0.0),
    ("COS", (0,), 1.0),
    ("TAN", (0,), 0.0),
    ("ASIN", (1,), math.pi / 2),
    ("ACOS", (1,), 0.0),
    ("ATAN", (1,), math.pi / 4),
    ("ATN", (1,), math.pi / 4),
    ("PI", (), math.pi),
    ("SUM", ([1, 2, 3],), 6),
    ("SUM", ([1, "2", "x", None, 2.5],), 5.5),
    ("SUM", (["10", "20"],), 30),
    ("SUM", ([],), 0),
    ("SUM", (None,), 0),
    ("SUM", (1, 2, "3"), 6),
    ("AVG", ([1, 2, 3],), 2),
    ("AVERAGE", ([1, 2],), 1.5),
    ("AVG", ([],), 0),
    ("AVG", (["4", "x", 2],), 3),
    ("COUNT", ([1, 2, 3],), 3),
    ("SIZE", ([],), 0),
    ("COUNT", (None,), 0),
    ("COUNT", ('[{"a":1},{"a":2}]',), 2),
])
def test_math_functions(name, args, expected):
    result = call_builtin(name, *args)
    if isinstance(expected, float):
        assert result == pytest.approx(expected)
    else:
        assert result == expected
        assert type(result) is type(expected)


@pytest.mark.parametrize("name, args", [
    ("MOD", (1, 0)),
    ("SQR", (-1,)),
    ("LOG", (0,)),
    ("ASIN", (2,)),
    ("EXP", (100000,)),
    ("ABS", ("abc",)),
    ("INT", (float("inf"),)),
    ("RANDOM", (0,)),
])
def test_math_errors(name, args):
    with pytest.raises(BasicError):
        call_builtin(name, *args, ctx=FakeContext())


def test_rnd_is_a_float_in_the_unit_interval():
    ctx = FakeContext()
    values = [call_builtin("RND", ctx=ctx) for _ in range(200)]
    assert all(0 <= v < 1 and type(v) is float for v in values)


def test_random_without_arguments_is_a_float():
    value = call_builtin("RANDOM", ctx=FakeContext())
    assert 0 <= value < 1


def test_random_with_a_maximum_excludes_it():
    ctx = FakeContext(3)
    values = {call_builtin("RANDOM", 3, ctx=ctx) for _ in range(300)}
    assert values == {0, 1, 2}


def test_random_between_bounds_includes_both_ends():
    ctx = FakeContext(5)
    values = {call_builtin("RANDOM", 1, 4, ctx=ctx) for _ in range(400)}
    assert values == {1, 2, 3, 4}


def test_random_four_digit_codes_stay_in_range():
    ctx = FakeContext(11)
    codes = [call_builtin("RANDOM", 1000, 9999, ctx=ctx) for _ in range(2000)]
    assert all(1000 <= code <= 9999 and type(code) is int for code in codes)


def test_random_is_reproducible_with_a_seeded_context():
    first = [call_builtin("RANDOM", 1000, 9999, ctx=FakeContext(42)) for _ in range(3)]
    again = [call_builtin("RANDOM", 1000, 9999, ctx=FakeContext(42)) for _ in range(3)]
    assert first == again


def test_random_accepts_bounds_in_either_order():
    ctx = FakeContext(2)
    values = {call_builtin("RANDOM", 3, 1, ctx=ctx) for _ in range(200)}
    assert values == {1, 2, 3}
