"""AST of the dialect: one frozen dataclass per syntax form, each with a source span.

The parser builds these nodes, the analyzer checks and completes them, the compiler
lowers them to a flat program. Identifiers are stored normalised (lower case, no
trailing ``$``); the written spelling is kept in ``raw`` where diagnostics or tool
schemas need it. Member names keep their written case (lookup is case-insensitive
at run time).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Optional, Union


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node stands in its ``.bas`` file (1-based line and column)."""

    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_SPAN = Span("<none>", 0, 0)


@dataclass(frozen=True, slots=True)
class Node:
    span: Span


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Expr(Node):
    pass


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    """Number, boolean, NULL or a string without interpolation."""

    value: Any


@dataclass(frozen=True, slots=True)
class Interpolated(Expr):
    """A double-quoted string or verbatim block with ``${expr}`` parts."""

    parts: tuple[Union[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class Name(Expr):
    name: str  # normalised: lower case, trailing $ removed
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Member(Expr):
    obj: Expr
    name: str  # written case kept


@dataclass(frozen=True, slots=True)
class Index(Expr):
    obj: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """``name(args)``: built-in function, script FUNCTION, or Compat ``arr(i)`` indexing."""

    name: str  # normalised
    args: tuple[Expr, ...]
    raw: str = ""


@dataclass(frozen=True, slots=True)
class MethodCall(Expr):
    """Compat JavaScript-style method call ``x.trim()`` / ``x.push(v)``."""

    obj: Expr
    method: str  # lower case
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # "-", "+"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    """Arithmetic, concatenation and comparison.

    ops: ``+ - * / \\ MOD ^ & ?? = <> < > <= >= CONTAINS LIKE``
    (``==`` is stored as ``=``, ``!=`` as ``<>``).
    """

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Logical(Expr):
    op: str  # "AND" | "OR"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class IsNull(Expr):
    operand: Expr
    negated: bool = False
    empty: bool = False  # IS [NOT] EMPTY


@dataclass(frozen=True, slots=True)
class InList(Expr):
    """``x [NOT] IN (a, b)`` (items) or ``x IN arr`` (one item that is a collection)."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False
    collection: bool = False


@dataclass(frozen=True, slots=True)
class Between(Expr):
    operand: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True, slots=True)
class Ternary(Expr):
    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True, slots=True)
class ArrayLit(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectLit(Expr):
    pairs: tuple[tuple[str, Expr], ...]  # keys keep their written case


@dataclass(frozen=True, slots=True)
class Arg(Node):
    """One item of a keyword's argument list: the separator before it and the value.

    ``sep`` is None for the first item, "," for a comma, or a connector word in upper
    case ("AS", "TO", "WITH", "ORDER BY" ...). ``expr`` is None for a bare connector
    (``OPTIONAL``, ``DESC``).
    """

    sep: Optional[str]
    expr: Optional[Expr]


@dataclass(frozen=True, slots=True)
class KeywordExpr(Expr):
    """A keyword used for its value (``x = FIND ...``); hoisted out by the compiler."""

    name: str  # normalised phrase, e.g. "GET BOT MEMORY"
    args: tuple[Arg, ...]
    parens: bool = False  # written as NAME(args)


@dataclass(frozen=True, slots=True)
class CallScript(Expr):
    """``CALL "x.bas", a, b`` used as a statement or a value."""

    script: Expr
    args: tuple[Expr, ...]


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Stmt(Node):
    pass


@dataclass(frozen=True, slots=True)
class Assign(Stmt):
    target: Expr  # Name | Member | Index
    value: Expr


@dataclass(frozen=True, slots=True)
class Command(Stmt):
    """A keyword statement; ``name`` is the normalised phrase (``SET BOT MEMORY``)."""

    name: str
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class Verbatim(Stmt):
    """``BEGIN TALK`` / ``BEGIN SYSTEM PROMPT`` / ``BEGIN MAIL rcpt`` with its body."""

    kind: str  # "TALK" | "SYSTEM PROMPT" | "MAIL"
    text: Interpolated
    header: Optional[Expr] = None  # the recipient of BEGIN MAIL


@dataclass(frozen=True, slots=True)
class IfBranch(Node):
    cond: Expr
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class If(Stmt):
    branches: tuple[IfBranch, ...]
    orelse: tuple[Stmt, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseTest(Node):
    """One test of a CASE line: ``value``, ``low TO high`` or ``IS op value``."""

    kind: str  # "value" | "range" | "is"
    value: Expr
    high: Optional[Expr] = None
    op: str = "="


@dataclass(frozen=True, slots=True)
class Case(Node):
    tests: tuple[CaseTest, ...]
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Select(Stmt):
    """SELECT CASE and SWITCH (same semantics)."""

    subject: Expr
    cases: tuple[Case, ...]
    orelse: Optional[tuple[Stmt, ...]] = None


@dataclass(frozen=True, slots=True)
class ForEach(Stmt):
    var: str
    iterable: Expr
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class ForRange(Stmt):
    var: str
    start: Expr
    end: Expr
    step: Optional[Expr]
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class DoLoop(Stmt):
    """DO/LOOP and WHILE/WEND. ``mode`` is "while", "until" or None (infinite)."""

    cond: Optional[Expr]
    mode: Optional[str]
    post_test: bool
    body: tuple[Stmt, ...]
    kind: str = "do"  # "do" | "while" (which EXIT leaves it)


@dataclass(frozen=True, slots=True)
class Exit(Stmt):
    """EXIT FOR/DO/WHILE/SUB/FUNCTION, BREAK ("loop"), or EXIT/END alone ("script")."""

    kind: str


@dataclass(frozen=True, slots=True)
class Continue(Stmt):
    pass


@dataclass(frozen=True, slots=True)
class Return(Stmt):
    value: Optional[Expr] = None


@dataclass(frozen=True, slots=True)
class WithBlock(Stmt):
    name: str
    pairs: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class Label(Stmt):
    name: str


@dataclass(frozen=True, slots=True)
class Goto(Stmt):
    label: str
    gosub: bool = False


@dataclass(frozen=True, slots=True)
class Procedure(Stmt):
    """SUB or FUNCTION definition (hoisted; not executed where it stands)."""

    name: str
    params: tuple[str, ...]
    body: tuple[Stmt, ...]
    is_function: bool
    raw: str = ""


@dataclass(frozen=True, slots=True)
class CallProc(Stmt):
    """``CALL name[(args)]`` or ``name(args)`` as a statement."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ExprStmt(Stmt):
    """A value-producing form used as a statement (``CALL "x.bas"``, ``x.push(1)``)."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class OnError(Stmt):
    mode: str  # "resume_next" | "goto0" | "goto"
    label: Optional[str] = None


@dataclass(frozen=True, slots=True)
class Throw(Stmt):
    message: Expr


@dataclass(frozen=True, slots=True)
class Assert(Stmt):
    cond: Expr
    message: Optional[Expr] = None


@dataclass(frozen=True, slots=True)
class Try(Stmt):
    body: tuple[Stmt, ...]
    catch_var: Optional[str]
    handler: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Param(Stmt):
    """A PARAM declaration (static; never executed)."""

    name: str  # written case
    type: str = "STRING"
    like: Any = None
    has_like: bool = False
    description: Optional[str] = None
    optional: bool = False
    default: Optional[Expr] = None
    enum: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Description(Stmt):
    text: str


@dataclass(frozen=True, slots=True)
class TableField(Node):
    name: str
    type: str
    raw: str
    key: bool = False
    references: Optional[str] = None


@dataclass(frozen=True, slots=True)
class TableDef(Stmt):
    """``TABLE name ... END TABLE`` (static declaration)."""

    name: str
    fields: tuple[TableField, ...]
    connection: Optional[str] = None
    read_by: Optional[str] = None
    write_by: Optional[str] = None


@dataclass(frozen=True, slots=True)
class Handler(Stmt):
    """``ON ... END ON`` and other tokenised aspirational blocks
    (``SCHEDULE IN ... DO ... END SCHEDULE``, ``PARALLEL ... END PARALLEL``)."""

    head: str
    args: tuple[Arg, ...]
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Unsupported(Stmt):
    """A statement the engine does not know (§12.3): a warning now, an error if run."""

    head: str
    raw: str


@dataclass(frozen=True, slots=True)
class Script(Node):
    """One compiled ``.bas`` file."""

    name: str  # stem, e.g. "create-ticket"
    body: tuple[Stmt, ...]
    procedures: tuple[Procedure, ...] = ()
    workflow: bool = False  # the #workflow pragma


# ---------------------------------------------------------------- visiting


def children(node: Node):
    """Yield the child nodes of ``node`` in source order."""
    for f in fields(node):
        if f.name == "span":
            continue
        yield from _nodes_in(getattr(node, f.name))


def _nodes_in(value):
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)


class Visitor:
    """Dispatches ``visit(node)`` to ``visit_<ClassName>``; unknown nodes are rejected.

    Subclasses that want a default walk call ``generic_visit``.
    """

    def visit(self, node: Node):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            return self.unknown(node)
        return method(node)

    def generic_visit(self, node: Node):
        for child in children(node):
            self.visit(child)

    def unknown(self, node: Node):
        raise TypeError(f"{type(self).__name__} cannot handle {type(node).__name__}")


class Walker(Visitor):
    """A visitor whose default is to walk every child (for read-only passes)."""

    def unknown(self, node: Node):
        return self.generic_visit(node)
