"""A compact, stable text form of AST nodes (golden tests, ``botbasic check --ast``).

``x = 1 + a.b`` dumps as ``(Assign (Name x) (Binary + 1 (Member (Name a) b)))``: literals
are written as Python literals, spans are left out.
"""
from __future__ import annotations

from dataclasses import fields

from . import nodes as n

_LEAVES = {n.Name: lambda e: f"(Name {e.name})", n.Literal: lambda e: repr(e.value)}


def dump(node) -> str:
    """The node as an s-expression; tuples of nodes print as ``[...]``."""
    if isinstance(node, tuple):
        return "[" + " ".join(dump(item) for item in node) + "]"
    if not isinstance(node, n.Node):
        return repr(node)
    leaf = _LEAVES.get(type(node))
    if leaf is not None:
        return leaf(node)
    parts = [type(node).__name__]
    for f in fields(node):
        if f.name in ("span", "raw"):
            continue
        value = getattr(node, f.name)
        if value is None or value == () or (f.default is not None and value == f.default
                                            and not isinstance(value, n.Node)):
            continue
        parts.append(dump(value) if isinstance(value, (n.Node, tuple)) else _scalar(value))
    return "(" + " ".join(parts) + ")"


def _scalar(value) -> str:
    return value if isinstance(value, str) and value and " " not in value and value.isprintable() \
        and not value[0].isdigit() else repr(value)
