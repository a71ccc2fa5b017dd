"""Python source for pure expressions and pure regions (used by interpreter/compiler.py).

The compiler hands over AST that contains no keyword call, no script call and no call of
a script procedure ("pure"); this module turns it into Python functions, all of one
program in one module that is ``compile()``d once:

* expression functions ``_eN(G, L, T, X)`` evaluate one expression with variables read
  from the dicts ``G`` (globals) / ``L`` (procedure locals) and temporaries from ``T``;
* region functions ``_rN(G, L, T, X)`` run a statement sequence with its variables held in
  Python locals (loaded at entry, written back in ``finally``), loops as Python loops and
  every statement wrapped in ``try/except`` that hands errors to ``X.trap`` (zero cost in
  CPython 3.11 until something raises) so ON ERROR RESUME NEXT continues with the next
  statement.

Operators get inline fast paths for the common exact types (``a + b if type(a) is
type(b) is int else _add(a, b)``) and fall back to runtime/values.py. Every operand is
evaluated exactly once, left to right: non-trivial operands are bound with ``:=`` in the
first test of the fast-path condition, which Python always evaluates.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

from .codegen_analysis import assigns_variable, has_own_continue
from .codegen_expr import (CallInfo, Code, CompileError, DictAccess, ExprGen, LocalRef,
                           OverrideAccess, RegionAccess, TempRef, Truthy)
from .codegen_stmt import RegionGen, case_condition
from .native import HELPERS

__all__ = ["ModuleBuilder", "CompileError", "TempRef", "LocalRef", "Truthy", "Code",
           "case_condition", "assigns_variable", "has_own_continue"]


# ---------------------------------------------------------------- module


class ModuleBuilder:
    """Collects the generated functions of one program and compiles them together."""

    def __init__(self, filename: str, info: CallInfo):
        self.filename = filename
        self.info = info
        self.sources: list[str] = []
        self.namespace: dict[str, Any] = dict(HELPERS)
        self._const_names: dict[int, str] = {}
        self._counter = 0

    def name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def const(self, hint: str, obj) -> str:
        """A module-level name bound to ``obj`` (built-in function handlers)."""
        name = self._const_names.get(id(obj))
        if name is None:
            name = re.sub(r"\W", "_", hint) + f"_{len(self._const_names)}"
            self._const_names[id(obj)] = name
            self.namespace[name] = obj
        return name

    def expression(self, expr: N.Expr, local_names=frozenset()) -> str:
        """A function returning the value of ``expr``."""
        gen = ExprGen(self, DictAccess(local_names))
        return self._function("_e", "(G, L, T, X)", [f"return {gen.src(expr)}"])

    def arguments(self, exprs, local_names=frozenset()) -> str:
        """A function returning the tuple of the values of ``exprs`` (None stays None)."""
        gen = ExprGen(self, DictAccess(local_names))
        items = "".join((gen.src(e) if e is not None else "None") + ", " for e in exprs)
        return self._function("_e", "(G, L, T, X)", [f"return ({items})"])

    def deferred(self, expr: N.Expr, local_names=frozenset()) -> str:
        """A function evaluating ``expr`` with the names of dict ``O`` shadowing variables."""
        gen = ExprGen(self, OverrideAccess(local_names))
        return self._function("_d", "(G, L, T, X, O)", [f"return {gen.src(expr)}"])

    def region(self, stmts, local_names=frozenset(), is_bare=lambda n: False) -> str:
        """A function running the pure statements ``stmts`` natively."""
        access = RegionAccess(local_names, is_bare)
        gen = RegionGen(self, access, self.filename)
        gen.block(stmts)
        lines = access.prologue() + ["try:"] + gen.lines + ["finally:"]
        lines += ["    " + line for line in access.epilogue()] or ["    pass"]
        return self._function("_r", "(G, L, T, X)", lines)

    def _function(self, prefix: str, signature: str, body: list[str]) -> str:
        name = self.name(prefix)
        self.sources.append(f"def {name}{signature}:\n" + "".join(f"    {line}\n" for line in body))
        return name

    def source(self) -> str:
        return "\n".join(self.sources)

    def build(self) -> dict:
        """Compile all functions; returns the namespace holding them."""
        with warnings.catch_warnings():  # e.g. "is" with a literal: harmless, not for users
            warnings.simplefilter("ignore", SyntaxWarning)
            try:
                code = compile(self.source(), f"<botbasic {self.filename}>", "exec")
            except (SyntaxError, RecursionError, MemoryError) as exc:
                raise CompileError(f"script too complex to compile ({exc})") from None
        exec(code, self.namespace)
        return self.namespace
