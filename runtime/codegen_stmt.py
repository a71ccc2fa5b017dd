"""Python source of pure statement sequences: the body of a region function
(used by runtime/codegen.py).

Variables live in Python locals (``RegionAccess``); every statement is wrapped in
``try/except`` handing errors to ``X.trap`` (ON ERROR RESUME NEXT goes on with the next
statement; the try costs nothing in CPython 3.11 until something raises); loops are
Python loops whose pass counts come free from ``range(limit)``, with an integer-only
version behind a type guard when runtime/codegen_analysis.py proves it safe.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..interpreter import nodes as N
from .codegen_analysis import (assigns_variable, has_own_continue, height,
                               integer_variables, walk_statements)
from .codegen_expr import Code, CompileError, ExprGen, LocalRef, RegionAccess, python_name


_DECLARATIONS = (N.Param, N.Description, N.TableDef)


def _cannot_fail(stmt: N.Stmt) -> bool:
    """Statements that raise nothing need no try (it would cost a NOP anyway)."""
    if isinstance(stmt, (N.Exit, N.Continue)):
        return True
    return (isinstance(stmt, N.Assign) and isinstance(stmt.target, N.Name)
            and isinstance(stmt.value, N.Literal))


class RegionGen:
    """Generates the body of one region function."""

    def __init__(self, module: "ModuleBuilder", access: RegionAccess, file: str):
        self.module = module
        self.access = access
        self.expr = ExprGen(module, access)
        self.file = file
        self.lines: list[str] = []
        self.depth = 1  # inside the write-back "try" of the function

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def block(self, stmts) -> None:
        start = len(self.lines)
        for stmt in stmts:
            self.statement(stmt)
        if len(self.lines) == start:
            self.emit("pass")

    def nested(self, stmts) -> None:
        self.depth += 1
        self.block(stmts)
        self.depth -= 1

    def statement(self, stmt: N.Stmt) -> None:
        if isinstance(stmt, _DECLARATIONS):
            return
        method = getattr(self, "s_" + type(stmt).__name__, None)
        if method is None:
            raise CompileError(f"{type(stmt).__name__} cannot be compiled natively", stmt.span)
        if _cannot_fail(stmt):
            method(stmt)
            return
        self.emit("try:")
        self.depth += 1
        method(stmt)
        self.depth -= 1
        self.emit("except Exception as _x:")
        self.emit(f"    X.trap(_x, {stmt.span.line})")

    # -- simple statements
    def s_Assign(self, s):
        code = self.expr.gen(s.value)
        if isinstance(s.target, N.Name):
            self.store_name(s.target.name, code)
            return
        self.emit(f"_v = {code.src}")
        self.emit(self.store_chain(self.bind_indexes(s.target), "_v"))

    def store_name(self, name: str, code: Code) -> None:
        if code.branches is None:
            self.emit(self.access.store(name, code.src))
            return
        test, fast, slow = code.branches
        self.emit(f"if {test}:")
        self.emit("    " + self.access.store(name, fast))
        self.emit("else:")
        self.emit("    " + self.access.store(name, slow))

    def bind_indexes(self, target: N.Expr) -> N.Expr:
        """Evaluate the index expressions of a target chain once, root first."""
        if isinstance(target, N.Member):
            return N.Member(target.span, self.bind_indexes(target.obj), target.name)
        if isinstance(target, N.Index):
            obj = self.bind_indexes(target.obj)
            index = self.expr.gen(target.index)
            if index.simple:
                return N.Index(target.span, obj, target.index)
            name = self.expr.fresh("_i")
            self.emit(f"{name} = {index.src}")
            return N.Index(target.span, obj, LocalRef(target.span, name))
        return target

    def store_chain(self, target: N.Expr, value_src: str) -> str:
        """The statement storing ``value_src`` into a Name/Member/Index target chain;
        intermediate containers are stored back because NULL ones get created."""
        if isinstance(target, N.Name):
            return self.access.store(target.name, value_src)
        if isinstance(target, N.Member):
            inner = f"_setm({self.expr.src(target.obj)}, {target.name!r}, {value_src})"
            return self.store_chain(target.obj, inner)
        if isinstance(target, N.Index):
            index = self.expr.src(target.index)
            inner = f"_seti({self.expr.src(target.obj)}, {index}, {value_src})"
            return self.store_chain(target.obj, inner)
        raise CompileError("cannot assign to this expression", target.span)

    def s_ExprStmt(self, s):
        self.emit(self.expr.src(s.expr))

    def s_Throw(self, s):
        self.emit(f"_throw({self.expr.src(s.message)})")

    def s_Assert(self, s):
        message = self.expr.src(s.message) if s.message is not None else "'assertion failed'"
        self.emit(f"if not {self.expr.truth(s.cond)}: _throw({message})")

    def s_Unsupported(self, s):
        self.emit(f"raise _BE({(s.head.upper() + ' is not supported')!r})")

    def s_Handler(self, s):
        if s.head.upper().startswith("PARALLEL"):
            self.block(s.body)
        elif not s.head.upper().startswith("ON"):
            self.emit(f"raise _BE({(s.head.upper() + ' is not supported')!r})")
        else:
            self.emit("pass")  # an event handler block is a declaration

    def s_WithBlock(self, s):
        obj = self.expr.gen(N.Name(s.span, s.name))
        self.emit(f"_w = _with_obj({obj.src})")
        self.emit(self.access.store(s.name, "_w"))
        for key, value in s.pairs:
            self.emit(f"_setm(_w, {key!r}, {self.expr.src(value)})")

    def s_Exit(self, s):
        self.emit("break")

    def s_Continue(self, s):
        self.emit("continue")

    # -- blocks
    def s_If(self, s):
        keyword = "if"
        for branch in s.branches:
            self.emit(f"{keyword} {self.expr.truth(branch.cond)}:")
            self.nested(branch.body)
            keyword = "elif"
        if s.orelse:
            self.emit("else:")
            self.nested(s.orelse)

    def s_Select(self, s):
        subject = self.expr.fresh("_s")
        self.emit(f"{subject} = {self.expr.src(s.subject)}")
        ref = LocalRef(s.span, subject)
        branches = tuple(N.IfBranch(case.span, case_condition(ref, case), case.body)
                         for case in s.cases)
        if branches:
            self.s_If(N.If(s.span, branches, s.orelse or ()))
        elif s.orelse:
            self.block(s.orelse)

    def s_ForRange(self, s):
        loop = self.expr.fresh("_f")
        step = self.expr.src(s.step) if s.step is not None else "None"
        bounds = f"{self.expr.src(s.start)}, {self.expr.src(s.end)}, {step}"
        self.emit(f"{loop} = X.for_range({bounds})")
        var = self.access.target(s.var)
        self.emit(f"{var} = {loop}.start")
        if assigns_variable(s.body, s.var):
            self.general_for(s, loop, var)
            return

        def emit_loop():
            self.emit(f"for {var} in {loop}.items:")
            self.nested(s.body)
            self.emit("else:")
            self.emit(f"    {var} = {loop}.finish({var})")

        literal_bounds = all(isinstance(e, N.Literal) and type(e.value) is int
                             for e in (s.start, s.end, s.step) if e is not None)
        counter = (s.var, None if literal_bounds else f"type({loop}.items) is range")
        self.versioned(s.body, (), emit_loop, counter)

    def versioned(self, body, exprs, emit_loop: Callable[[], None], counter=None) -> None:
        """Emit a loop twice when some of its variables can be proved to stay integers
        once they are integers at entry: a version with integer-only arithmetic behind a
        ``type(v) is int`` guard, and the general version (loop versioning)."""
        ints = self.access.int_names
        known = {name for name, count in ints.items() if count}
        own = {counter[0]: counter[1]} if counter else {}
        found = integer_variables(body, exprs, known, own, self.access)
        if not found or not self.room_for_versions(body):
            emit_loop()
            return
        guards = [own.get(name) or f"type({python_name(name)}) is int"
                  for name in sorted(found - known) if own.get(name, "") is not None]
        self.push_ints(found, +1)
        if guards:
            self.emit(f"if {' and '.join(guards)}:")
            self.depth += 1
        emit_loop()
        self.push_ints(found, -1)
        if guards:
            self.depth -= 1
            self.emit("else:")
            self.depth += 1
            emit_loop()
            self.depth -= 1

    def push_ints(self, names, delta: int) -> None:
        ints = self.access.int_names
        for name in names:
            ints[name] = ints.get(name, 0) + delta
            self.access.used[name] = None

    def room_for_versions(self, body) -> bool:
        """CPython nests at most 20 blocks; a version costs one, each nested level up to
        three (try, version, loop) and the innermost statements two."""
        return self.depth + 1 + 3 * height(body) + 3 <= 19

    def general_for(self, s, loop: str, var: str) -> None:
        """A FOR whose body assigns its counter: test and step the variable itself."""
        self.emit(f"for _ in range(X.max_iterations):")
        self.depth += 1
        self.emit(f"if not {loop}.test({var}): break")
        self.block(s.body)
        self.emit(f"{var} = {loop}.advance({var})")
        self.depth -= 1
        self.emit("else:")
        self.emit(f"    if {loop}.test({var}): X.loop_limit()")

    def s_ForEach(self, s):
        loop = self.expr.fresh("_f")
        self.emit(f"{loop} = X.for_each({self.expr.src(s.iterable)})")
        target = self.access.target(s.var)

        def emit_loop():
            self.emit(f"for {target} in {loop}.items:")
            self.nested(s.body)
            self.emit("else:")
            self.emit(f"    {loop}.finish()")

        self.versioned(s.body, (), emit_loop)

    def s_DoLoop(self, s):
        """``for _ in range(limit)`` counts the passes for free; the else clause runs when
        the limit was reached without leaving the loop."""
        self.emit("X.tick()")
        self.versioned(s.body, (s.cond,) if s.cond is not None else (),
                       lambda: self.do_loop(s))

    def do_loop(self, s) -> None:
        test = self.loop_test(s)
        if s.post_test and test is not None and has_own_continue(s.body):
            count = self.expr.fresh("_n")
            self.emit(f"for {count} in range(X.max_iterations):")
            self.emit(f"    if {count} and not ({test}): break")
        else:
            self.emit("for _ in range(X.max_iterations):")
            if test is not None and not s.post_test:
                self.emit(f"    if not ({test}): break")
        self.nested(s.body)
        if test is not None and s.post_test:
            self.emit(f"    if not ({test}): break")
        self.emit("else:")
        check = f"if {test}: " if test is not None else ""
        self.emit(f"    {check}X.loop_limit()")

    def loop_test(self, s: N.DoLoop) -> Optional[str]:
        """The condition to keep looping, or None for an endless DO ... LOOP."""
        if s.cond is None:
            return None
        test = self.expr.truth(s.cond)
        return f"not {test}" if s.mode == "until" else test


def case_condition(subject: N.Expr, case: N.Case) -> N.Expr:
    """The condition of one CASE line against the (already evaluated) subject."""
    tests = [case_test(subject, test) for test in case.tests]
    condition = tests[0]
    for test in tests[1:]:
        condition = N.Logical(case.span, "OR", condition, test)
    return condition


def case_test(subject: N.Expr, test: N.CaseTest) -> N.Expr:
    if test.kind == "range":
        return N.Between(test.span, subject, test.value, test.high)
    op = test.op if test.kind == "is" else "="
    return N.Binary(test.span, op, subject, test.value)
