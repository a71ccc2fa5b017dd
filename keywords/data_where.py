"""WHERE conditions and ``SET col = expr`` pairs of the data keywords (DIALECT §9.6.2).

The handlers receive these arguments unevaluated (``@deferred``): in ``WHERE email =
email`` the left ``email`` names a column while the right one is the script variable, so
the condition cannot be evaluated as a whole. ``filters.where_query`` walks the AST and
asks for the value of each right-hand operand; this module supplies that evaluation.

A ``DeferredExpr`` only evaluates its whole node. Until it offers
``evaluate_part(sub_node)`` (the engine-side change this module asks for), the operands
are compiled here with the same code generator the compiler uses and run against the
scope the VM bound into the deferred expression. Either way the operand is evaluated
exactly as the same expression written elsewhere in the script would be.
"""
from __future__ import annotations

from typing import Any, Callable

from ..interpreter import nodes as N
from ..runtime.codegen import ModuleBuilder
from ..runtime.errors import BasicError
from ..runtime.services.filters import Query, parse_filter, where_query
from ..runtime.values import to_str
from .calls import ArgValue, DeferredExpr

Evaluate = Callable[[N.Expr], Any]

_COMPILED: dict[tuple, tuple[N.Expr, Callable]] = {}
_CACHE_SIZE = 1024


def operand_evaluator(ctx, deferred: DeferredExpr) -> Evaluate:
    """A function giving the value of a sub-expression of ``deferred.node`` in the
    script's scope (variables only, never the table's columns)."""
    native = getattr(deferred, "evaluate_part", None)
    if callable(native):
        return native
    G, L, T, X = _bound_scope(deferred)
    local_names = frozenset(L) if isinstance(L, dict) else frozenset()

    def evaluate(node: N.Expr):
        return _compiled(node, local_names, ctx.registry)(G, L, T, X, {})
    return evaluate


def query_of(ctx, arg: ArgValue) -> Query:
    """The Query of a WHERE argument: a BASIC condition or a filter string."""
    if isinstance(arg.value, DeferredExpr):
        return where_query(arg.value.node, operand_evaluator(ctx, arg.value))
    return parse_filter(to_str(arg.value))


def assignments(ctx, args: list[ArgValue]) -> dict:
    """``SET col = expr, col2 = expr2`` (each pair arrives as a comparison) as a dict."""
    values: dict = {}
    for arg in args:
        node = arg.value.node if isinstance(arg.value, DeferredExpr) else None
        if not (isinstance(node, N.Binary) and node.op == "=" and
                isinstance(node.left, (N.Name, N.Member))):
            raise BasicError("UPDATE ... SET expects column = value pairs")
        column = node.left.name if isinstance(node.left, N.Member) else (node.left.raw or node.left.name)
        values[column.rstrip("$")] = operand_evaluator(ctx, arg.value)(node.right)
    return values


def _bound_scope(deferred: DeferredExpr) -> tuple:
    """The ``(G, L, T, X)`` the VM bound into the deferred expression's evaluator."""
    fn = getattr(deferred, "_evaluate", None)
    code, cells = getattr(fn, "__code__", None), getattr(fn, "__closure__", None)
    scope = dict(zip(code.co_freevars, (cell.cell_contents for cell in cells))) \
        if code is not None and cells else {}
    if not {"G", "L", "T", "X"} <= scope.keys():
        raise BasicError("WHERE conditions are not available in this version")
    return scope["G"], scope["L"], scope["T"], scope["X"]


class _Names:
    """What the code generator asks about names (codegen.CallInfo)."""

    def __init__(self, registry):
        self.registry = registry

    def function(self, name: str):
        return self.registry.functions.get(name)

    def may_be_variable(self, name: str) -> bool:
        return True  # the generated code checks at run time (Compat arr(i))


def _compiled(node: N.Expr, local_names: frozenset, registry) -> Callable:
    key = (id(node), local_names, id(registry))
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is node:
        return hit[1]
    module = ModuleBuilder("<where>", _Names(registry))
    name = module.deferred(node, local_names)
    function = module.build()[name]
    if len(_COMPILED) >= _CACHE_SIZE:
        _COMPILED.clear()
    _COMPILED[key] = (node, function)  # the node is kept alive, so its id stays unique
    return function
