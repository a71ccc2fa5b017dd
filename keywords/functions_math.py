"""Math functions (DIALECT §10.2).

Arguments go through ``to_num`` (NULL is 0, numeric strings parse, other strings are a
runtime error). Rounding is half away from zero; INT and FIX truncate (§11 A-56).
"""
from __future__ import annotations

import math

from ..runtime.errors import OVERFLOW, BasicError
from ..runtime.formatting import round_half_away
from ..runtime.values import compare, div, json_view, length, mod, power, to_num
from .functions_convert import int_arg, number_or_none
from .registry import function


def _checked(name: str, operation, *numbers):
    """Run a ``math`` function, turning domain and range failures into BasicError."""
    try:
        return operation(*numbers)
    except ValueError:
        raise BasicError(f"{name}: argument out of range") from None
    except OverflowError:
        raise BasicError(f"{name}: result too large", OVERFLOW) from None


def _whole(name: str, operation, value) -> int:
    """FLOOR / CEIL / INT results are integers; infinities cannot be."""
    number = to_num(value)
    if type(number) is int:
        return number
    return _checked(name, lambda n: int(operation(n)), number)


@function("ABS", min_args=1, max_args=1)
def abs_(value):
    """Absolute value (an int stays an int)."""
    return abs(to_num(value))


@function("ROUND", min_args=1, max_args=2)
def round_(value, digits=0):
    """Round half away from zero: ROUND(2.5) = 3, ROUND(-2.5) = -3, ROUND(1.005, 2) = 1.01."""
    return round_half_away(to_num(value), int_arg(digits))


@function("INT", "FIX", min_args=1, max_args=1)
def int_(value):
    """Truncate toward zero (INT(-2.7) = -2; use FLOOR to floor)."""
    return _whole("INT", math.trunc, value)


@function("FLOOR", min_args=1, max_args=1)
def floor(value):
    """Largest integer not above the value."""
    return _whole("FLOOR", math.floor, value)


@function("CEIL", "CEILING", min_args=1, max_args=1)
def ceil(value):
    """Smallest integer not below the value."""
    return _whole("CEIL", math.ceil, value)


def _candidates(values: tuple) -> list:
    """MAX/MIN operands: several arguments, or the elements of one array argument.

    Numeric strings count as numbers; NULL elements are ignored.
    """
    if len(values) == 1 and isinstance(json_view(values[0]), list):
        values = json_view(values[0])
    found = []
    for value in values:
        number = number_or_none(value)
        if value is not None:
            found.append(value if number is None else number)
    return found


def _extreme(values: tuple, wanted: int):
    best = None
    for value in _candidates(values):
        if best is None or compare(value, best) == wanted:
            best = value
    return best


@function("MAX", min_args=1)
def max_(*values):
    """Largest of the arguments or of one array (NULL for an empty array)."""
    return _extreme(values, 1)


@function("MIN", min_args=1)
def min_(*values):
    """Smallest of the arguments or of one array (NULL for an empty array)."""
    return _extreme(values, -1)


@function("MOD", min_args=2, max_args=2)
def mod_(dividend, divisor):
    """Remainder with the sign of the dividend; a zero divisor is an error."""
    return mod(dividend, divisor)


@function("SGN", min_args=1, max_args=1)
def sgn(value):
    """-1, 0 or 1."""
    number = to_num(value)
    return (number > 0) - (number < 0)


@function("SQR", "SQRT", min_args=1, max_args=1)
def sqr(value):
    """Square root (negative arguments are an error)."""
    return _checked("SQR", math.sqrt, to_num(value))


@function("POW", "POWER", min_args=2, max_args=2)
def pow_(base, exponent):
    """``base ^ exponent``."""
    return power(base, exponent)


@function("LOG", min_args=1, max_args=1)
def log(value):
    """Natural logarithm."""
    return _checked("LOG", math.log, to_num(value))


@function("LOG10", min_args=1, max_args=1)
def log10(value):
    """Base-10 logarithm."""
    return _checked("LOG10", math.log10, to_num(value))


@function("EXP", min_args=1, max_args=1)
def exp(value):
    """e raised to the value."""
    return _checked("EXP", math.exp, to_num(value))


def _trig(name: str, operation):
    """A registered one-argument trigonometric function (radians)."""
    def apply(value):
        return _checked(name, operation, to_num(value))
    apply.__doc__ = f"{name} in radians."
    return apply


sin = function("SIN", min_args=1, max_args=1)(_trig("SIN", math.sin))
cos = function("COS", min_args=1, max_args=1)(_trig("COS", math.cos))
tan = function("TAN", min_args=1, max_args=1)(_trig("TAN", math.tan))
asin = function("ASIN", min_args=1, max_args=1)(_trig("ASIN", math.asin))
acos = function("ACOS", min_args=1, max_args=1)(_trig("ACOS", math.acos))
atan = function("ATAN", "ATN", min_args=1, max_args=1)(_trig("ATAN", math.atan))


@function("PI", max_args=0, bare=True)
def pi():
    """π."""
    return math.pi


@function("RND", max_args=0, needs_ctx=True, bare=True)
def rnd(ctx):
    """A float in [0, 1)."""
    return ctx.random.random()


@function("RANDOM", max_args=2, needs_ctx=True)
def random_(ctx, *bounds):
    """RANDOM() float in [0, 1); RANDOM(max) int in [0, max); RANDOM(min, max) inclusive."""
    if not bounds:
        return ctx.random.random()
    if len(bounds) == 1:
        return _random_below(ctx, int_arg(bounds[0]))
    low, high = sorted((int_arg(bounds[0]), int_arg(bounds[1])))
    return ctx.random.randint(low, high)


def _random_below(ctx, limit: int) -> int:
    if limit <= 0:
        raise BasicError(f"RANDOM: the upper bound must be positive, not {limit}")
    return ctx.random.randrange(limit)


def _numbers_in(values: tuple) -> list:
    """SUM/AVG operands: numeric elements (numeric strings included) of one array or of
    several arguments; everything else is skipped."""
    if len(values) == 1:
        view = json_view(values[0])
        values = view if isinstance(view, list) else (view,)
    numbers = (number_or_none(value) for value in values)
    return [number for number in numbers if number is not None]


@function("SUM", min_args=1)
def sum_(*values):
    """Sum of the numeric elements; 0 when there are none."""
    return sum(_numbers_in(values))


@function("AVG", "AVERAGE", min_args=1)
def avg(*values):
    """Mean of the numeric elements; 0 when there are none."""
    numbers = _numbers_in(values)
    return div(sum(numbers), len(numbers)) if numbers else 0


@function("COUNT", "SIZE", min_args=1, max_args=1)
def count(value):
    """Number of elements (JSON text counts its parsed elements; NULL is 0)."""
    return length(json_view(value))

