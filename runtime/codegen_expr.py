"""Python source of pure expressions (used by runtime/codegen.py).

``ExprGen`` turns an expression into the source of a Python expression over the names
of the generated function: variables through an ``Access`` (``G``/``L`` dicts for the
VM's expression functions, Python locals inside regions), temporaries as ``T[i]``.
Operators get inline fast paths for exact types known statically or tested at run time
and fall back to runtime/values.py; every operand is evaluated once, left to right
(non-trivial operands are bound with ``:=`` in the first test of a fast-path condition,
which Python always evaluates).
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional, Protocol

from ..interpreter import nodes as N
from .values import parse_number


class CompileError(Exception):
    """The compiler met a form it cannot lower (the analyzer should have rejected it)."""

    def __init__(self, message: str, span: N.Span = N.NO_SPAN):
        super().__init__(f"{span.file}:{span.line}: error: {message}")
        self.span = span


# ---------------------------------------------------------------- internal nodes


@dataclass(frozen=True, slots=True)
class TempRef(N.Expr):
    """The value of a VM temporary (a hoisted keyword result, a spilled operand)."""

    slot: int


@dataclass(frozen=True, slots=True)
class LocalRef(N.Expr):
    """A Python local of the region being generated (the subject of a SELECT)."""

    name: str


@dataclass(frozen=True, slots=True)
class Truthy(N.Expr):
    """The truth of a value as a boolean."""

    operand: N.Expr


class Code(NamedTuple):
    """Generated source of an expression; ``kind`` is its static type when known
    ("int", "float", "str", "bool", "null") else "any"; ``simple`` when the source may
    be repeated without cost or side effect."""

    src: str
    kind: str = "any"
    simple: bool = False
    # (test, fast, slow) when src is "(fast if test else slow)": an assignment emits it as
    # an if statement, which keeps CPython's in-place "s = s + t" string append working.
    branches: Optional[tuple[str, str, str]] = None


class CallInfo(Protocol):
    """What the generator asks the compiler about names used as functions."""

    def function(self, name: str):
        """The FunctionSpec of a built-in, or None."""

    def may_be_variable(self, name: str) -> bool:
        """Whether a variable of this name can exist (Compat ``arr(i)`` indexing)."""


# ---------------------------------------------------------------- variables


def python_name(name: str) -> str:
    """A Python identifier for a BASIC variable (ASCII only: no NFKC surprises)."""
    return "v_" + re.sub(r"[^a-z0-9_]", lambda m: f"_{ord(m.group()):x}_", name)


class Access:
    """How generated code reaches BASIC variables; ``local_names`` live in ``L``."""

    def __init__(self, local_names=frozenset()):
        self.local_names = frozenset(local_names)

    def load(self, name: str, bare_call: Optional[str]) -> Code:
        raise NotImplementedError

    def store(self, name: str, src: str) -> str:
        raise NotImplementedError


class DictAccess(Access):
    """Variables read from the ``G``/``L`` dicts (expression functions of the VM)."""

    def load(self, name, bare_call=None):
        if name in self.local_names:
            return Code(f"L.get({name!r})")
        if bare_call:
            return Code(f"(G[{name!r}] if {name!r} in G else {bare_call})")
        return Code(f"G.get({name!r})")

    def store(self, name, src):
        scope = "L" if name in self.local_names else "G"
        return f"{scope}[{name!r}] = {src}"


class OverrideAccess(DictAccess):
    """Like DictAccess, but names in the dict ``O`` win (deferred keyword arguments)."""

    def load(self, name, bare_call=None):
        base = DictAccess.load(self, name, bare_call).src
        return Code(f"(O[{name!r}] if {name!r} in O else {base})")


class RegionAccess(Access):
    """Variables held in Python locals for the duration of a region."""

    def __init__(self, local_names=frozenset(), is_bare: Callable[[str], bool] = lambda n: False):
        super().__init__(local_names)
        self.is_bare = is_bare
        self.used: dict[str, None] = {}
        self.assigned: dict[str, None] = {}
        self.int_names: dict[str, int] = {}  # counters of FOR loops known to be integers

    def load(self, name, bare_call=None):
        self.used[name] = None
        py = python_name(name)
        if self.int_names.get(name):
            return Code(py, "int", True)
        if bare_call and self.is_bare_name(name):
            return Code(f"({py} if {py} is not _UNSET else {bare_call})")
        return Code(py, simple=True)

    def store(self, name, src):
        self.used[name] = None
        self.assigned[name] = None
        return f"{python_name(name)} = {src}"

    def target(self, name: str) -> str:
        """The Python name a loop binds directly (``for v_x in ...``)."""
        self.used[name] = None
        self.assigned[name] = None
        return python_name(name)

    def is_bare_name(self, name: str) -> bool:
        """A global whose name is also a bare function (NOW, TODAY ...)."""
        return name not in self.local_names and self.is_bare(name)

    def prologue(self) -> list[str]:
        lines = []
        for name in self.used:
            scope = "L" if name in self.local_names else "G"
            default = ", _UNSET" if self.is_bare_name(name) else ""
            lines.append(f"{python_name(name)} = {scope}.get({name!r}{default})")
        return lines

    def epilogue(self) -> list[str]:
        lines = []
        for name in self.assigned:
            scope = "L" if name in self.local_names else "G"
            py = python_name(name)
            if self.is_bare_name(name):
                lines.append(f"if {py} is not _UNSET: {scope}[{name!r}] = {py}")
            else:
                lines.append(f"{scope}[{name!r}] = {py}")
        return lines


# ---------------------------------------------------------------- expressions

_ARITH_FNS = {"+": "_add", "-": "_sub", "*": "_mul"}
# Operators whose left-deep chains of at least CHAIN_LENGTH operands compile to one call.
_CHAIN_GROUPS = {"+": "add", "-": "add", "*": "mul", "&": "cat"}
CHAIN_LENGTH = 6
_PLAIN_FNS = {"/": "_div", "\\": "_idiv", "^": "_pow", "**": "_pow", "&": "_cat",
              "??": "_coal", "CONTAINS": "_contains", "LIKE": "_like"}
_ORDER_OPS = {"<", ">", "<=", ">="}
_EQ_OPS = {"=": False, "==": False, "<>": True, "!=": True}


def _left_chain(e: N.Binary) -> list:
    """``a + b - c`` -> ``[(None, a), ("+", b), ("-", c)]`` for one operator group."""
    group = _CHAIN_GROUPS.get(e.op.upper())
    if group is None:
        return [(None, e)]
    links = []
    while isinstance(e, N.Binary) and _CHAIN_GROUPS.get(e.op.upper()) == group:
        links.append((e.op.upper(), e.right))
        e = e.left
    links.append((None, e))
    return links[::-1]


def _is_text_literal(code: Code) -> bool:
    """A string literal that is not numeric: ``+`` with it joins text (§4.3)."""
    if not (code.simple and code.kind == "str"):
        return False
    return parse_number(ast.literal_eval(code.src)) is None


def literal(value) -> Code:
    """Source of a constant."""
    if value is None:
        return Code("None", "null", True)
    if type(value) is bool:
        return Code(repr(value), "bool", True)
    if type(value) is int:
        return Code(repr(value), "int", True)
    if type(value) is float:
        if math.isfinite(value):
            return Code(repr(value), "float", True)
        return Code(f"float({repr(value)!r})", "float")
    if type(value) is str:
        return Code(repr(value), "str", True)
    raise CompileError(f"unexpected literal {value!r}")


class ExprGen:
    """Generates the source of pure expressions for one function."""

    def __init__(self, module: "ModuleBuilder", access: Access):
        self.module = module
        self.access = access
        self.count = 0

    def fresh(self, prefix: str = "_a") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def gen(self, e: N.Expr) -> Code:
        method = getattr(self, "x_" + type(e).__name__, None)
        if method is None:
            raise CompileError(f"cannot evaluate {type(e).__name__} here", e.span)
        return method(e)

    def src(self, e: N.Expr) -> str:
        return self.gen(e).src

    def truth(self, e: N.Expr) -> str:
        """Source of the truth of ``e`` as a Python bool."""
        code = self.gen(e)
        if code.kind == "bool":
            return code.src
        if code.kind == "int" and code.simple:
            return f"({code.src} != 0)"
        if code.simple and code.kind == "any":  # booleans (the usual flags) skip the call
            return f"({code.src} is True or ({code.src} is not False and _truthy({code.src})))"
        return f"_truthy({code.src})"

    def bind(self, code: Code) -> tuple[str, str]:
        """(source that evaluates the operand, source that reuses its value)."""
        if code.simple:
            return code.src, code.src
        name = self.fresh()
        return f"({name} := {code.src})", name

    # -- leaves
    def x_Literal(self, e):
        return literal(e.value)

    def x_Name(self, e):
        return self.access.load(e.name, self.bare_call(e.name))

    def x_TempRef(self, e):
        return Code(f"T[{e.slot}]", simple=True)

    def x_LocalRef(self, e):
        return Code(e.name, simple=True)

    def bare_call(self, name: str) -> Optional[str]:
        spec = self.module.info.function(name)
        if spec is None or not spec.bare:
            return None
        return self.call_source(name, spec, [])

    # -- strings and containers
    def x_Interpolated(self, e):
        pieces = []
        for part in e.parts:
            if isinstance(part, str):
                if part:
                    pieces.append(repr(part))
                continue
            code = self.gen(part)
            pieces.append(code.src if code.kind == "str" else f"_str({code.src})")
        if not pieces:
            return Code("''", "str", True)
        return Code("(" + " + ".join(pieces) + ")", "str")

    def x_ArrayLit(self, e):
        return Code("[" + ", ".join(self.src(item) for item in e.items) + "]")

    def x_ObjectLit(self, e):
        keys = [key.lower() for key, _ in e.pairs]
        if len(set(keys)) == len(keys):
            body = ", ".join(f"{key!r}: {self.src(value)}" for key, value in e.pairs)
            return Code(f"_BO({{{body}}})")
        pairs = ", ".join(f"({key!r}, {self.src(value)})" for key, value in e.pairs)
        return Code(f"_obj_pairs(({pairs},))")

    # -- access
    def x_Member(self, e):
        return Code(f"_getm({self.src(e.obj)}, {e.name!r})")

    def x_Index(self, e):
        obj = self.gen(e.obj)
        index = self.gen(e.index)
        if not index.simple:
            return Code(f"_geti({obj.src}, {index.src})")
        bo, ro = self.bind(obj)
        i = index.src
        return Code(f"({ro}[{i}] if type({bo}) is list and type({i}) is int and 0 <= {i} < len({ro})"
                    f" else _geti({ro}, {i}))")

    def x_MethodCall(self, e):
        args = ", ".join(self.src(a) for a in e.args)
        return Code(f"_callm({self.src(e.obj)}, {e.method!r}, [{args}])")

    def x_Call(self, e):
        info = self.module.info
        spec = info.function(e.name)
        if info.may_be_variable(e.name) and e.args:
            var = self.access.load(e.name, None)
            bv, rv = self.bind(var)
            indexes = ", ".join(self.src(a) for a in e.args)
            other = self.call_source(e.name, spec, e.args) if spec else f"_unknown_fn({e.name!r})"
            return Code(f"(_index_chain({rv}, ({indexes},)) if _is_container({bv}) else {other})")
        if spec is None:
            return Code(f"_unknown_fn({e.name!r})")
        return Code(self.call_source(e.name, spec, e.args))

    def call_source(self, name: str, spec, args) -> str:
        given = len(args)
        if given < spec.min_args or (spec.max_args is not None and given > spec.max_args):
            return f"_arity({name!r}, {spec.min_args}, {spec.max_args!r}, {given})"
        fn = self.module.const(f"_f_{name}", spec.handler)
        sources = [self.src(a) for a in args]
        if spec.lazy:
            sources = [f"(lambda: {s})" for s in sources]
        if spec.needs_ctx:
            sources.insert(0, "X.ctx")
        return f"{fn}({', '.join(sources)})"

    # -- operators
    def x_Unary(self, e):
        operand = self.gen(e.operand)
        if e.op == "+":
            return Code(f"_num({operand.src})")
        if isinstance(e.operand, N.Literal) and type(e.operand.value) in (int, float):
            return literal(-e.operand.value)
        bo, ro = self.bind(operand)
        return Code(f"(-{ro} if type({bo}) is int else _neg({ro}))")

    def x_Not(self, e):
        return Code(f"(not {self.truth(e.operand)})", "bool")

    def x_Truthy(self, e):
        return Code(self.truth(e.operand), "bool")

    def x_Logical(self, e):
        op = "and" if e.op.upper() in ("AND", "&&") else "or"
        operands = []
        while isinstance(e, N.Logical) and ("and" if e.op.upper() in ("AND", "&&") else "or") == op:
            operands.append(e.right)
            e = e.left  # a left-deep chain stays one flat Python expression
        operands.append(e)
        return Code("(" + f" {op} ".join(self.truth(o) for o in reversed(operands)) + ")", "bool")

    def x_Ternary(self, e):
        cond = self.truth(e.cond)
        return Code(f"({self.src(e.then)} if {cond} else {self.src(e.other)})")

    def x_IsNull(self, e):
        fn = "_isempty" if e.empty else "_isnull"
        test = f"{fn}({self.src(e.operand)})"
        return Code(f"(not {test})" if e.negated else test, "bool")

    def x_InList(self, e):
        operand = self.src(e.operand)
        if e.collection:
            test = f"_in({operand}, {self.src(e.items[0])})"
        else:
            items = "".join(self.src(item) + ", " for item in e.items)
            test = f"_in_items({operand}, ({items}))"
        return Code(f"(not {test})" if e.negated else test, "bool")

    def x_Between(self, e):
        return Code(f"_between({self.src(e.operand)}, {self.src(e.low)}, {self.src(e.high)})", "bool")

    def x_Binary(self, e):
        op = e.op.upper()
        chain = _left_chain(e)
        if len(chain) >= CHAIN_LENGTH:
            return self.flat_chain(chain)
        a, b = self.gen(e.left), self.gen(e.right)
        if op in _ARITH_FNS:
            return self.arithmetic(op, a, b)
        if op in ("MOD", "%"):
            return self.modulo(a, b)
        if op in _EQ_OPS:
            return self.equality(a, b, _EQ_OPS[op])
        if op in _ORDER_OPS:
            return self.ordering(op, a, b)
        fn = _PLAIN_FNS.get(op)
        if fn is None:
            raise CompileError(f"unknown operator {e.op}", e.span)
        kind = "bool" if op in ("CONTAINS", "LIKE") else "str" if op == "&" else "any"
        if op == "\\" and a.kind == b.kind == "int":
            kind = "int"
        return Code(f"{fn}({a.src}, {b.src})", kind)

    def flat_chain(self, chain) -> Code:
        """``_chain(a, "+", b, "-", c ...)``: one call instead of one nesting per operator
        (CPython limits the nesting of parentheses in source)."""
        first, rest = chain[0][1], chain[1:]
        parts = [self.src(first)] + [f"{op!r}, {self.src(operand)}" for op, operand in rest]
        return Code(f"_chain({', '.join(parts)})")

    def fast_path(self, a: Code, b: Code, fast: str, slow: str, types=("int",), guard="",
                  kind: str = "any") -> Code:
        """``fast`` when the operands have one of ``types`` (a literal operand fixes the
        type), else ``slow``; ``{a}``/``{b}`` in the templates are the operand values."""
        if a.kind in types and b.kind in types and not guard:  # both types known statically
            chosen = fast if a.kind == b.kind else slow
            return Code(f"({chosen.format(a=a.src, b=b.src)})", kind)
        lit_a = a.simple and a.kind in types
        lit_b = b.simple and b.kind in types
        ba, ra = self.bind(a)
        bb, rb = self.bind(b)
        if lit_b and not lit_a:
            test = f"type({ba}) is {b.kind}"
        elif lit_a and not lit_b:
            test = f"type({bb}) is {a.kind}"
        elif lit_a and lit_b:
            test = "True" if a.kind == b.kind else "False"
        elif ba == bb:
            test = f"type({ba}) is int"  # the same variable twice (i * i)
        else:
            test = f"type({ba}) is type({bb}) is int"
        test += guard.format(a=ra, b=rb)
        fast_src, slow_src = fast.format(a=ra, b=rb), slow.format(a=ra, b=rb)
        if test == "True":
            return Code(f"({fast_src})", kind)
        return Code(f"({fast_src} if {test} else {slow_src})", kind,
                    branches=(test, fast_src, slow_src))

    def arithmetic(self, op: str, a: Code, b: Code) -> Code:
        if op == "+" and (_is_text_literal(a) or _is_text_literal(b)):
            return self.text_plus(a, b)
        types = ("int", "float", "str") if op == "+" else ("int", "float")
        kind = "int" if a.kind == b.kind == "int" else "any"
        return self.fast_path(a, b, "{a} %s {b}" % op, _ARITH_FNS[op] + "({a}, {b})", types,
                              kind=kind)

    def text_plus(self, a: Code, b: Code) -> Code:
        """``"Total: " + n`` with a non-numeric text literal: the other operand joins as
        text when it is a string or an integer (§4.3); anything else goes to ``_add``."""
        text_first = _is_text_literal(a)
        other = b if text_first else a
        join = "{t} + {o}" if text_first else "{o} + {t}"
        text = a.src if text_first else b.src
        if other.kind == "int":
            return Code("(" + join.format(t=text, o=f"str({other.src})") + ")", "str")
        bound, ref = self.bind(other)
        as_str = join.format(t=text, o=ref)
        as_int = join.format(t=text, o=f"str({ref})")
        slow = f"_add({text}, {ref})" if text_first else f"_add({ref}, {text})"
        kind_test = self.fresh("_t")
        return Code(f"({as_str} if ({kind_test} := type({bound})) is str else {as_int} "
                    f"if {kind_test} is int else {slow})",
                    branches=(f"({kind_test} := type({bound})) is str", as_str,
                              f"{as_int} if {kind_test} is int else {slow}"))

    def modulo(self, a: Code, b: Code) -> Code:
        if b.simple and b.kind == "int" and b.src.isdigit() and int(b.src) > 0:
            guard = " and {a} >= 0"
        else:
            guard = " and {a} >= 0 and {b} > 0"
        kind = "int" if a.kind == b.kind == "int" else "any"
        return self.fast_path(a, b, "{a} % {b}", "_mod({a}, {b})", ("int",), guard, kind)

    def equality(self, a: Code, b: Code, negate: bool) -> Code:
        fast = "{a} != {b}" if negate else "{a} == {b}"
        slow = "not _eq({a}, {b})" if negate else "_eq({a}, {b})"
        return self.fast_path(a, b, fast, slow, ("int", "str"), kind="bool")

    def ordering(self, op: str, a: Code, b: Code) -> Code:
        return self.fast_path(a, b, "{a} %s {b}" % op, "_cmp(%r, {a}, {b})" % op,
                              ("int", "float"), kind="bool")
