"""Static facts about the statements of a native region (runtime/codegen.py).

Which variables a block assigns, whether a loop has its own CONTINUE, how deeply blocks
nest, and which variables of a loop provably stay integers once they are integers at the
loop's start (the basis of the integer version of a loop in runtime/codegen_stmt.py).
"""
from __future__ import annotations

from typing import Optional

from ..interpreter import nodes as N


def assigns_variable(stmts, name: str) -> bool:
    """Whether any statement (nested ones included) assigns variable ``name``."""
    for stmt in walk_statements(stmts):
        if isinstance(stmt, N.Assign) and _root_name(stmt.target) == name:
            return True
        if isinstance(stmt, (N.ForRange, N.ForEach)) and stmt.var == name:
            return True
        if isinstance(stmt, N.WithBlock) and stmt.name == name:
            return True
    return False


def _root_name(target: N.Expr) -> Optional[str]:
    while isinstance(target, (N.Member, N.Index)):
        target = target.obj
    return target.name if isinstance(target, N.Name) else None


def walk_statements(stmts):
    for stmt in stmts:
        yield stmt
        for child in N.children(stmt):
            if isinstance(child, N.Stmt):
                yield from walk_statements((child,))
            elif isinstance(child, (N.IfBranch, N.Case)):
                yield from walk_statements(child.body)



def has_own_continue(stmts) -> bool:
    """A CONTINUE that belongs to this loop (not to a nested one)."""
    for s in stmts:
        if isinstance(s, N.Continue):
            return True
        if isinstance(s, N.If):
            if any(has_own_continue(b.body) for b in s.branches) or has_own_continue(s.orelse):
                return True
        elif isinstance(s, N.Select):
            bodies = [c.body for c in s.cases] + [s.orelse or ()]
            if any(has_own_continue(b) for b in bodies):
                return True
    return False


_INT_OPS = {"+", "-", "*", "MOD", "%", "\\"}
_NUMERIC_OPS = _INT_OPS | {"/", "^", "<", ">", "<=", ">=", "=", "==", "<>", "!="}


def integer_variables(body, exprs, known: set, own: dict, access) -> set:
    """Variables of a loop that stay integers through every pass once they are integers
    when the loop starts: each assignment in the loop gives them an integer expression of
    integer variables, and they are never assigned as objects, FOR EACH elements or WITH
    blocks. Variables the loop only reads qualify when it uses them in arithmetic or
    comparisons. ``own`` is the loop's counter (an integer when its range is)."""
    assigned: dict[str, list] = {}
    bad: set = set()
    for stmt in walk_statements(body):
        _classify_assignment(stmt, assigned, bad)
    candidates = (set(assigned) | _numeric_reads(body, exprs) | set(own)) - bad
    found = {n for n in candidates if not access.is_bare_name(n)} | known
    changed = True
    while changed:  # drop variables assigned a value that is not surely an integer
        changed = False
        for name in list(found - known):
            if name not in own and not all(integer_expr(v, found) for v in assigned.get(name, ())):
                found.discard(name)
                changed = True
    return found if found - known else set()


def _numeric_reads(body, exprs) -> set:
    """Names used as operands of arithmetic or comparisons in a loop."""
    numeric = set()
    for node in _walk_nodes(body, exprs):
        if isinstance(node, N.Binary) and node.op.upper() in _NUMERIC_OPS:
            numeric.update(o.name for o in (node.left, node.right) if isinstance(o, N.Name))
    return numeric


def _classify_assignment(stmt, assigned: dict, bad: set) -> None:
    if isinstance(stmt, N.Assign):
        root = stmt.target
        if isinstance(root, N.Name):
            assigned.setdefault(root.name, []).append(stmt.value)
            return
        while isinstance(root, (N.Member, N.Index)):
            root = root.obj
        if isinstance(root, N.Name):
            bad.add(root.name)
    elif isinstance(stmt, N.ForRange):
        step = stmt.step if stmt.step is not None else N.Literal(stmt.span, 1)
        assigned.setdefault(stmt.var, []).extend((stmt.start, step))
    elif isinstance(stmt, N.ForEach):
        bad.add(stmt.var)
    elif isinstance(stmt, N.WithBlock):
        bad.add(stmt.name)


def integer_expr(e, ints: set) -> bool:
    """Whether ``e`` is an integer when the variables ``ints`` are."""
    if isinstance(e, N.Literal):
        return type(e.value) is int
    if isinstance(e, N.Name):
        return e.name in ints
    if isinstance(e, N.Unary) and e.op == "-":
        return integer_expr(e.operand, ints)
    if isinstance(e, N.Binary) and e.op.upper() in _INT_OPS:
        return integer_expr(e.left, ints) and integer_expr(e.right, ints)
    return False


def _walk_nodes(body, exprs):
    stack = list(body) + [e for e in exprs if e is not None]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(N.children(node))


def height(stmts) -> int:
    """How deeply blocks nest inside ``stmts`` (0 for simple statements only)."""
    best = 0
    for stmt in stmts:
        bodies = [b.body for b in getattr(stmt, "branches", ())]
        bodies += [c.body for c in getattr(stmt, "cases", ())]
        for name in ("body", "orelse"):
            value = getattr(stmt, name, None)
            if isinstance(value, tuple) and not isinstance(stmt, (N.WithBlock,)):
                bodies.append(value)
        if bodies:
            best = max(best, 1 + max(height(b) for b in bodies))
    return best
