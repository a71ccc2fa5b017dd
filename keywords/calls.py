"""What a keyword handler receives: ``async def handler(ctx, call: KeywordCall)``.

``ctx`` is the ``runtime.context.ExecutionContext`` (services, session data, output sink,
clock, limits). ``call`` describes this one use of the keyword:

* ``call.args`` — the evaluated arguments, ``ArgValue(sep, value, name)`` in source order.
  ``sep`` is None for the first argument, "," or the connector word before it ("AS",
  "TO" ...); ``name`` is the identifier (or last member segment) the argument was written
  as, else None — ``SAVE "t", id, name`` names its columns after the variables, and
  ``HEAR x AS INTEGER`` reads the type word ``integer`` from it. For keywords whose spec
  has ``target=True`` the target (``x`` of ``HEAR x``) is not among the args: the
  handler's return value is assigned to it, and its name is ``call.target``.
* ``call.raw_args`` — the AST ``Arg`` nodes as written, for handlers that need the form.
* ``call.spec``, ``call.file``, ``call.line`` — for messages.
* ``call.resume`` / ``call.resumed`` / ``call.state`` — suspension (HEAR): a handler of a
  ``suspends`` keyword returns ``call.wait()`` to end the run with status "waiting". The
  execution is saved; when the user's next message arrives the same handler is called again
  with the same args, ``call.resumed`` True, ``call.resume`` the message and ``call.state``
  the JSON dict it left (e.g. a retry count). It may wait again.

The return value of the handler is the keyword's value (NULL = ``None``).

Unevaluated arguments: a handler decorated with ``@deferred("WHERE")`` receives the
arguments after that connector as a ``DeferredExpr`` instead of a value: its AST ``node``
and ``evaluate(names)``, which evaluates the expression with ``names`` (a dict keyed by
lower-case identifier, e.g. a row's columns) shadowing the script's variables. The
compiler reads this marker; deferred arguments may not contain keyword calls.

Assignment form: a handler decorated with ``@assignment_form`` whose call has one argument
written ``a = b`` (``REMEMBER "k" + id = value``; the parser reads it as a comparison)
receives two arguments instead: ``a`` and then ``b`` with separator "=".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

DEFERRED_ATTR = "__botbasic_deferred__"
ASSIGNMENT_ATTR = "__botbasic_assignment_form__"


class _Waiting:
    """The marker a suspending handler returns to wait for the user's next message."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "WAITING"


WAITING = _Waiting()


@dataclass(frozen=True, slots=True)
class ArgValue:
    """One evaluated argument of a keyword call."""

    sep: Optional[str]
    value: Any
    name: Optional[str] = None


@dataclass(slots=True)
class KeywordCall:
    """One execution of a keyword statement or keyword expression (see module doc)."""

    spec: Any
    args: list[ArgValue]
    line: int
    file: str
    raw_args: tuple = ()
    target: Optional[str] = None
    resume: Any = None
    resumed: bool = False
    state: dict = field(default_factory=dict)

    def wait(self) -> _Waiting:
        """End this run and wait for the user's next message (``suspends`` keywords only)."""
        return WAITING

    @property
    def values(self) -> list:
        """The argument values alone, in order."""
        return [arg.value for arg in self.args]

    def after(self, sep: str) -> list[ArgValue]:
        """The arguments from the one introduced by ``sep`` up to the next connector word.

        ``HEAR x AS "a", "b" WITH "p"`` -> ``after("AS")`` gives the two options.
        """
        found: list[ArgValue] = []
        for arg in self.args:
            if found and arg.sep not in (",", None):
                break
            if found or arg.sep == sep:
                found.append(arg)
        return found

    def leading(self) -> list[ArgValue]:
        """The arguments before the first connector word."""
        found: list[ArgValue] = []
        for arg in self.args:
            if arg.sep not in (None, ","):
                break
            found.append(arg)
        return found


class DeferredExpr:
    """An argument the handler evaluates itself (see ``deferred``)."""

    __slots__ = ("node", "_evaluate")

    def __init__(self, node, evaluate: Callable[[Mapping], Any]):
        self.node = node
        self._evaluate = evaluate

    def evaluate(self, names: Optional[Mapping] = None):
        """The expression's value, with ``names`` (lower-case keys) shadowing variables."""
        return self._evaluate(names or {})

    def __repr__(self) -> str:
        return f"DeferredExpr({self.node!r})"


def deferred(*seps: str):
    """Mark a handler whose arguments after these connector words stay unevaluated."""
    words = frozenset(s.upper() for s in seps)

    def mark(fn):
        setattr(fn, DEFERRED_ATTR, words)
        return fn

    return mark


def deferred_seps(spec) -> frozenset:
    """The connector words whose arguments ``spec``'s handler wants unevaluated."""
    return getattr(spec.handler, DEFERRED_ATTR, frozenset()) if spec is not None else frozenset()


def assignment_form(fn):
    """Mark a handler whose lone ``a = b`` argument is passed as two (see module doc)."""
    setattr(fn, ASSIGNMENT_ATTR, True)
    return fn


def splits_assignment(spec) -> bool:
    """Whether ``spec``'s handler wants a lone ``a = b`` argument split in two."""
    return spec is not None and getattr(spec.handler, ASSIGNMENT_ATTR, False)
