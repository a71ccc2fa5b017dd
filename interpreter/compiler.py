"""Compiler: ``nodes.Script`` -> ``runtime.program.Program`` (a flat, resumable program).

Lowering follows three rules (docs/DESIGN.md, DIALECT §12.2):

1. *Pure* statements — no keyword, no script call, no call of a script procedure, no
   GOTO/label, no RETURN/EXIT of a procedure or script — are collected into maximal runs and
   each run becomes one ``Region``: a native Python function (runtime/codegen.py) with its
   loops as Python loops. Most scripts spend nearly all their time there.
2. Everything the VM must see is its own instruction: keyword calls (they may await or
   suspend), procedure and script calls, and the jumps of the blocks that contain them. A
   keyword value or call inside an expression is *hoisted* into a temporary first; operands
   left of it are spilled to temporaries so evaluation stays left to right, and AND / OR /
   IIF / ``?:`` / ``??`` around hoisted work become jumps so they still short-circuit.
3. All state between instructions lives in the frame (variables, temporaries — loop
   counters, bounds and FOR EACH snapshots included), so a suspended execution is plain data.

``ON ERROR RESUME NEXT``: every instruction records where its statement ends (``resume``);
a failing keyword or call whose value feeds an expression yields NULL instead and the
statement goes on (§6.4 "a keyword expression that failed yields NULL to its target").
"""
from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

from ..keywords.calls import deferred_seps, splits_assignment
from ..keywords.registry import Registry, normalize_name
from ..runtime import program as P
from ..runtime.codegen import (CompileError, LocalRef, ModuleBuilder, TempRef, Truthy,
                               assigns_variable, case_condition, has_own_continue)
from . import nodes as N

COMPILER_VERSION = "botbasic-compiler-1"

# Deepest nesting of blocks compiled into one native function; deeper blocks are lowered
# to VM jumps (CPython allows 20 nested blocks and each level costs two: try + block; loop
# versions are only added where room is left, see RegionGen.room_for_versions).
MAX_NATIVE_DEPTH = 6

_CACHE: "weakref.WeakKeyDictionary[Registry, dict[str, P.Program]]" = weakref.WeakKeyDictionary()
CACHE_SIZE = 1024  # programs kept per registry (oldest dropped first)

__all__ = ["compile_script", "program_hash", "CompileError", "COMPILER_VERSION"]


def program_hash(source: str, file: str) -> str:
    """The identity of a compiled program: its text, its file and the compiler version."""
    data = f"{COMPILER_VERSION}\0{file}\0{source}".encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def compile_script(script: N.Script, source: str, registry: Registry,
                   params: Optional[Sequence[N.Param]] = None) -> P.Program:
    """Compile a parsed script. ``params`` are its PARAM declarations (the analyzer's
    ``ScriptInfo.params``; by default the Param statements of the body). Programs are
    cached per registry by ``program_hash``."""
    file = script.span.file if script.span.file != N.NO_SPAN.file else f"{script.name}.bas"
    digest = program_hash(source or repr(script), file)
    cache = _CACHE.setdefault(registry, {})
    program = cache.get(digest)
    if program is None:
        if params is None:
            params = [s for s in script.body if isinstance(s, N.Param)]
        program = _Compiler(script, registry, file, params).compile(digest)
        if len(cache) >= CACHE_SIZE:
            del cache[next(iter(cache))]
        cache[digest] = program
    return program


# ---------------------------------------------------------------- names


@dataclass
class _Names:
    """What the compiler knows about the names of one script (codegen's CallInfo)."""

    registry: Registry
    procedures: dict[str, N.Procedure]
    variables: set[str]

    def function(self, name: str):
        if name in self.procedures:
            return None
        return self.registry.functions.get(name)

    def may_be_variable(self, name: str) -> bool:
        return name in self.variables

    def is_bare(self, name: str) -> bool:
        spec = self.function(name)
        return spec is not None and spec.bare


def _assigned_names(script: N.Script, registry: Registry) -> set[str]:
    """Every variable name a script can assign (for Compat ``arr(i)`` resolution)."""
    found: set[str] = set()
    for node in _walk(script):
        if isinstance(node, N.Assign):
            root = _root(node.target)
            if isinstance(root, N.Name):
                found.add(root.name)
        elif isinstance(node, (N.ForRange, N.ForEach)):
            found.add(node.var)
        elif isinstance(node, N.WithBlock):
            found.add(node.name)
        elif isinstance(node, N.Param):
            found.add(normalize_name(node.name))
        elif isinstance(node, N.Procedure):
            found.update(node.params)
        elif isinstance(node, N.Try) and node.catch_var:
            found.add(node.catch_var)
        elif isinstance(node, N.Command) and _is_target_command(node, registry):
            root = _root(node.args[0].expr)
            if isinstance(root, N.Name):
                found.add(root.name)
    return found


def _is_target_command(node: N.Command, registry: Registry) -> bool:
    spec = registry.keyword_spec(node.name)
    return bool(spec and spec.target and node.args and node.args[0].expr is not None)


def _has_labels(stmts) -> bool:
    return any(isinstance(node, N.Label) for stmt in stmts for node in _walk(stmt))


def _walk(node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(N.children(current))


def _root(target):
    while isinstance(target, (N.Member, N.Index)):
        target = target.obj
    return target


def _arg_name(expr) -> Optional[str]:
    """The identifier an argument was written as (``SAVE`` names columns after it)."""
    if isinstance(expr, N.Name):
        return expr.raw or expr.name
    if isinstance(expr, N.Member):
        return expr.name
    return None


# ---------------------------------------------------------------- purity


class _Purity:
    """Decides what may run inside a native region."""

    def __init__(self, names: _Names):
        self.names = names
        # id -> (node, purity); holding the node keeps its id from being reused
        self._memo: dict[int, tuple] = {}

    def expr(self, e) -> bool:
        """Whether ``e`` contains no keyword, script call or procedure call. Iterative
        (bottom-up with a stack): long operator chains nest hundreds of levels deep."""
        if e is None:
            return True
        memo = self._memo
        stack = [(e, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in memo:
                continue
            operands = [c for c in N.children(node) if isinstance(c, N.Expr)]
            if ready:
                pure = self._pure_itself(node) and all(memo[id(c)][1] for c in operands)
                memo[id(node)] = (node, pure)
            else:
                stack.append((node, True))
                stack.extend((c, False) for c in operands if id(c) not in memo)
        return memo[id(e)][1]

    def _pure_itself(self, e) -> bool:
        if isinstance(e, (N.KeywordExpr, N.CallScript)):
            return False
        return not (isinstance(e, N.Call) and e.name in self.names.procedures)

    def stmt(self, s: N.Stmt, loops: tuple = (), depth: int = 0) -> bool:
        method = getattr(self, "s_" + type(s).__name__, None)
        return bool(method and method(s, loops, depth))

    def body(self, stmts, loops, depth) -> bool:
        return all(self.stmt(s, loops, depth) for s in stmts)

    def exprs(self, *exprs) -> bool:
        return all(self.expr(e) for e in exprs)

    # simple statements
    def s_Assign(self, s, loops, depth):
        return self.exprs(s.value, s.target) and isinstance(_root(s.target), N.Name)

    def s_ExprStmt(self, s, loops, depth):
        return self.expr(s.expr)

    def s_Throw(self, s, loops, depth):
        return self.expr(s.message)

    def s_Assert(self, s, loops, depth):
        return self.exprs(s.cond, s.message)

    def s_WithBlock(self, s, loops, depth):
        return self.exprs(*(value for _, value in s.pairs))

    def s_CallProc(self, s, loops, depth):
        return self.names.function(s.name) is not None and self.exprs(*s.args)

    def s_Unsupported(self, s, loops, depth):
        return True

    s_Param = s_Description = s_TableDef = s_Unsupported

    def s_Exit(self, s, loops, depth):
        return bool(loops) and (s.kind == "loop" or loops[-1] == s.kind)

    def s_Continue(self, s, loops, depth):
        return bool(loops)

    # blocks
    def s_If(self, s, loops, depth):
        return depth <= MAX_NATIVE_DEPTH and all(
            self.expr(b.cond) and self.body(b.body, loops, depth + 1) for b in s.branches
        ) and self.body(s.orelse, loops, depth + 1)

    def s_Select(self, s, loops, depth):
        tests = [e for case in s.cases for t in case.tests for e in (t.value, t.high)]
        return (depth <= MAX_NATIVE_DEPTH and self.exprs(s.subject, *tests)
                and all(self.body(c.body, loops, depth + 1) for c in s.cases)
                and self.body(s.orelse or (), loops, depth + 1))

    def s_ForRange(self, s, loops, depth):
        if assigns_variable(s.body, s.var) and has_own_continue(s.body):
            return False  # the generated general loop cannot CONTINUE past its step
        return (depth <= MAX_NATIVE_DEPTH and self.exprs(s.start, s.end, s.step)
                and self.body(s.body, loops + ("for",), depth + 1))

    def s_ForEach(self, s, loops, depth):
        return (depth <= MAX_NATIVE_DEPTH and self.expr(s.iterable)
                and self.body(s.body, loops + ("for",), depth + 1))

    def s_DoLoop(self, s, loops, depth):
        return (depth <= MAX_NATIVE_DEPTH and self.expr(s.cond)
                and self.body(s.body, loops + (s.kind,), depth + 1))

    def s_Handler(self, s, loops, depth):
        if s.head.upper().startswith("PARALLEL"):
            return depth <= MAX_NATIVE_DEPTH and self.body(s.body, loops, depth + 1)
        return True


# ---------------------------------------------------------------- assembly


class _Label:
    __slots__ = ("pc",)

    def __init__(self):
        self.pc = -1


class _Assembler:
    """The growing instruction list; jump targets are labels until ``finish``."""

    def __init__(self):
        self.code: list[P.Instr] = []
        self.try_ranges: list[tuple[_Label, _Label, _Label]] = []

    def label(self) -> _Label:
        return _Label()

    def mark(self, label: _Label) -> None:
        label.pc = len(self.code)

    def here(self) -> _Label:
        label = _Label()
        self.mark(label)
        return label

    def finish(self) -> None:
        for instr in self.code:
            for name in ("target", "resume"):
                value = getattr(instr, name, None)
                if isinstance(value, _Label):
                    if value.pc < 0:
                        raise CompileError(f"internal: unplaced label in {type(instr).__name__}")
                    setattr(instr, name, value.pc)


class _Temps:
    """Temporaries of one body, allocated like a stack (per statement, per loop)."""

    def __init__(self):
        self.top = 0
        self.size = 0

    def alloc(self, count: int = 1) -> int:
        slot = self.top
        self.top += count
        self.size = max(self.size, self.top)
        return slot


@dataclass
class _Loop:
    kind: str  # "for" | "do" | "while"
    exit: _Label
    next: _Label


_VALUE_CALLS = (P.Keyword, P.CallProc, P.CallNamed, P.CallScript)


@dataclass
class _Body:
    """Lowering state of one body (the script's top level or one procedure)."""

    local_names: frozenset
    proc: Optional[N.Procedure] = None
    temps: _Temps = field(default_factory=_Temps)
    loops: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)
    pending: list = field(default_factory=list)
    resume: list = field(default_factory=list)
    in_try: int = 0
    # GOTO/GOSUB can enter code while a loop elsewhere holds its temporaries, so a body
    # with labels never reuses a temporary slot.
    reuse_temps: bool = True


class _Compiler:
    """Lowers one script (see module doc)."""

    def __init__(self, script: N.Script, registry: Registry, file: str,
                 params: Sequence[N.Param]):
        self.script = script
        self.registry = registry
        self.file = file
        self.declared = list(params)
        procedures = {p.name: p for p in script.procedures}
        variables = _assigned_names(script, registry) | {normalize_name(p.name) for p in params}
        self.names = _Names(registry, procedures, variables)
        self.purity = _Purity(self.names)
        self.module = ModuleBuilder(file, self.names)
        self.asm = _Assembler()
        self.b = _Body(frozenset())

    # -- driver
    def compile(self, digest: str) -> P.Program:
        params = [(p, self.module.expression(p.default) if p.default is not None else None)
                  for p in self.declared]
        self.b = _Body(frozenset(), reuse_temps=not _has_labels(self.script.body))
        self.body(self.script.body)
        self.emit(P.EndScript(), self.script.span.line)
        main_temps = self.check_labels()
        procedures = {name: self.procedure(proc) for name, proc in self.names.procedures.items()}
        self.asm.finish()
        namespace = self.module.build()
        for instr in self.asm.code:
            instr.link(namespace)
        return P.Program(
            name=self.script.name, file=self.file, hash=digest, code=self.asm.code,
            ntemps=main_temps, procedures=procedures, params=self.link_params(params, namespace),
            try_ranges=tuple(P.TryRange(s.pc, e.pc, c.pc) for s, e, c in self.asm.try_ranges),
            python_source=self.module.source())

    def procedure(self, proc: N.Procedure) -> P.ProcInfo:
        local_names = set(proc.params)
        if proc.is_function:
            local_names.add(proc.name)  # VB style: FunctionName = value
        self.b = _Body(frozenset(local_names), proc, reuse_temps=not _has_labels(proc.body))
        entry = self.asm.here()
        self.body(proc.body)
        self.emit(P.Return(), proc.span.line)
        ntemps = self.check_labels()
        return P.ProcInfo(proc.name, tuple(proc.params), entry.pc, proc.is_function, ntemps)

    @staticmethod
    def link_params(params, namespace) -> tuple:
        return tuple(P.ParamInfo(normalize_name(p.name), p.name, p.type.upper(),
                                 namespace[d] if d else None, p.optional or d is not None)
                     for p, d in params)

    def check_labels(self) -> int:
        for name, label in self.b.labels.items():
            if label.pc < 0:
                raise CompileError(f"label {name} is not defined in this body")
        return self.b.temps.size

    # -- emission
    def emit(self, instr: P.Instr, line: int) -> P.Instr:
        """Append an instruction after the pending pure statements."""
        self.flush()
        instr.line = line
        if isinstance(instr, _VALUE_CALLS) and instr.slot is not None:
            instr.resume = -1  # a failed value call yields NULL and its statement goes on
        elif self.b.resume:
            instr.resume = self.b.resume[-1]
        self.asm.code.append(instr)
        return instr

    def flush(self) -> None:
        """Compile the pending pure statements into one region."""
        pending, self.b.pending = self.b.pending, []
        if pending:
            fn = self.module.region(pending, self.b.local_names, self.names.is_bare)
            region = P.Region(line=pending[0].span.line, fn=fn, in_try=self.b.in_try > 0)
            self.asm.code.append(region)

    def expression(self, expr: N.Expr) -> str:
        return self.module.expression(expr, self.b.local_names)

    def var(self, name: str) -> P.VarRef:
        return P.VarRef(name in self.b.local_names, name)

    # -- statements
    def body(self, stmts) -> None:
        for stmt in stmts:
            self.statement(stmt)

    def statement(self, stmt: N.Stmt) -> None:
        if self.purity.stmt(stmt):
            self.b.pending.append(stmt)
            return
        self.flush()
        end = self.asm.label()
        self.b.resume.append(end)
        mark = self.b.temps.top
        method = getattr(self, "l_" + type(stmt).__name__, None)
        if method is None:
            raise CompileError(f"cannot compile {type(stmt).__name__}", stmt.span)
        method(stmt)
        self.flush()  # the rest of this statement (its assignment) ends with it
        if self.b.reuse_temps:
            self.b.temps.top = mark
        self.b.resume.pop()
        self.asm.mark(end)

    def l_Assign(self, s: N.Assign):
        value = self.lower(s.value)
        self.b.pending.append(N.Assign(s.span, self.lower_target(s.target), value))

    def lower_target(self, target: N.Expr) -> N.Expr:
        if isinstance(target, N.Member):
            return N.Member(target.span, self.lower_target(target.obj), target.name)
        if isinstance(target, N.Index):
            obj = self.lower_target(target.obj)
            return N.Index(target.span, obj, self.lower(target.index))
        return target

    def l_Command(self, s: N.Command):
        spec = self.registry.keyword_spec(s.name)
        args = s.args
        target = None
        if spec is not None and spec.target and args and args[0].expr is not None:
            target, args = args[0].expr, args[1:]
        slot = self.b.temps.alloc() if target is not None else None
        self.keyword(s.name, args, s.args, slot, s.span.line, _arg_name(target))
        if target is not None:
            assign = N.Assign(s.span, self.lower_target(target), TempRef(s.span, slot))
            self.b.pending.append(assign)

    def keyword(self, phrase: str, args, raw_args, slot, line: int, target=None) -> None:
        """Emit one keyword call; its arguments are lowered left to right."""
        spec = self.registry.keyword_spec(phrase)
        args = _split_assignment(args) if splits_assignment(spec) else args
        exprs, deferred = self.deferred_args(args, deferred_seps(spec))
        lowered = self.lower_all(exprs)
        args_fn = self.module.arguments(lowered, self.b.local_names) if args else None
        self.emit(P.Keyword(phrase=spec.phrase if spec else phrase, args_fn=args_fn,
                            seps=tuple(a.sep for a in args),
                            names=tuple(_arg_name(a.expr) for a in args),
                            deferred=tuple(deferred), raw_args=tuple(raw_args), slot=slot,
                            target=target), line)

    def deferred_args(self, args, wanted: frozenset) -> tuple[list, list]:
        """Split arguments into those evaluated now (others None) and the deferred ones:
        ``(index, function, node)`` for each argument after a connector in ``wanted``."""
        exprs, deferred, inside = [], [], False
        for index, arg in enumerate(args):
            inside = arg.expr is not None and (arg.sep in wanted or (inside and arg.sep == ","))
            if inside:
                fn = self.module.deferred(arg.expr, self.b.local_names)
                deferred.append((index, fn, arg.expr))
            exprs.append(None if inside else arg.expr)
        return exprs, deferred

    def l_Verbatim(self, s: N.Verbatim):
        if s.kind == "MAIL":
            args = (N.Arg(s.span, None, s.header), N.Arg(s.span, ",", s.text))
        else:
            args = (N.Arg(s.span, None, s.text),)
        phrase = "BEGIN " + s.kind
        if self.registry.keyword_spec(phrase) is None and s.kind == "TALK":
            phrase = "TALK"
        self.keyword(phrase, args, args, None, s.span.line)

    def l_ExprStmt(self, s: N.ExprStmt):
        expr = s.expr
        if isinstance(expr, N.KeywordExpr):
            self.keyword(expr.name, expr.args, expr.args, None, s.span.line)
        elif isinstance(expr, N.CallScript):
            self.call_script(expr, None)
        else:
            lowered = self.lower(expr)
            if not isinstance(lowered, (TempRef, N.Literal)):
                self.b.pending.append(N.ExprStmt(s.span, lowered))

    def l_CallProc(self, s: N.CallProc):
        args = self.lower_all(list(s.args))
        if s.name in self.names.procedures:
            self.emit(P.CallProc(name=s.name, args_fn=self.arguments(args)), s.span.line)
        elif self.names.function(s.name) is not None:
            self.b.pending.append(N.ExprStmt(s.span, N.Call(s.span, s.name, tuple(args))))
        else:
            self.emit(P.CallNamed(name=s.name, args_fn=self.arguments(args)), s.span.line)

    def arguments(self, exprs) -> Optional[str]:
        return self.module.arguments(exprs, self.b.local_names) if exprs else None

    def call_script(self, e: N.CallScript, slot: Optional[int]) -> None:
        lowered = self.lower_all([e.script, *e.args])
        self.emit(P.CallScript(name_fn=self.expression(lowered[0]),
                               args_fn=self.arguments(lowered[1:]), slot=slot), e.span.line)

    def l_If(self, s: N.If):
        end = self.asm.label()
        for branch in s.branches:
            following = self.asm.label()
            self.branch(branch.cond, following, when=False, line=branch.span.line)
            self.body(branch.body)
            self.emit(P.Jump(target=end), branch.span.line)
            self.asm.mark(following)
        self.body(s.orelse)
        self.flush()
        self.asm.mark(end)

    def branch(self, cond: N.Expr, target: _Label, when: bool, line: int) -> None:
        fn = self.expression(self.lower(cond))
        self.emit(P.Branch(fn=fn, target=target, when=when), line)

    def l_Select(self, s: N.Select):
        slot = self.spill(self.lower(s.subject), force=True).slot
        subject = TempRef(s.span, slot)
        branches = tuple(N.IfBranch(c.span, case_condition(subject, c), c.body) for c in s.cases)
        self.l_If(N.If(s.span, branches, s.orelse or ()))

    def l_ForRange(self, s: N.ForRange):
        bounds = self.lower_all([s.start, s.end, s.step])
        slot = self.b.temps.alloc(3)
        var = self.var(s.var)
        bounds_fn = self.module.arguments(bounds, self.b.local_names)
        self.emit(P.ForPrep(var=var, fn=bounds_fn, slot=slot), s.span.line)
        top, loop = self.asm.here(), _Loop("for", self.asm.label(), self.asm.label())
        self.emit(P.ForTest(var=var, slot=slot, target=loop.exit), s.span.line)
        self.loop_body(loop, s.body)
        self.asm.mark(loop.next)
        self.emit(P.ForNext(var=var, slot=slot), s.span.line)
        self.emit(P.Jump(target=top), s.span.line)
        self.asm.mark(loop.exit)
        self.emit(P.Clear(slots=(slot, slot + 1, slot + 2)), s.span.line)

    def l_ForEach(self, s: N.ForEach):
        fn = self.expression(self.lower(s.iterable))
        slot = self.b.temps.alloc(2)
        self.emit(P.EachPrep(fn=fn, slot=slot), s.span.line)
        top = self.asm.here()
        loop = _Loop("for", self.asm.label(), top)
        self.emit(P.EachNext(var=self.var(s.var), slot=slot, target=loop.exit), s.span.line)
        self.loop_body(loop, s.body)
        self.emit(P.Jump(target=top), s.span.line)
        self.asm.mark(loop.exit)
        self.emit(P.Clear(slots=(slot, slot + 1)), s.span.line)

    def l_DoLoop(self, s: N.DoLoop):
        slot = self.b.temps.alloc()
        line = s.span.line
        self.emit(P.LoopPrep(slot=slot), line)
        top = self.asm.here()
        loop = _Loop(s.kind, self.asm.label(), self.asm.label())
        if s.cond is not None and not s.post_test:
            self.branch(s.cond, loop.exit, when=(s.mode == "until"), line=line)
        self.emit(P.LoopCount(slot=slot), line)
        self.loop_body(loop, s.body)
        self.asm.mark(loop.next)
        if s.cond is not None and s.post_test:
            self.branch(s.cond, top, when=(s.mode != "until"), line=line)
        else:
            self.emit(P.Jump(target=top), line)
        self.asm.mark(loop.exit)
        self.emit(P.Clear(slots=(slot,)), line)

    def loop_body(self, loop: _Loop, stmts) -> None:
        self.b.loops.append(loop)
        self.body(stmts)
        self.flush()
        self.b.loops.pop()

    def l_Exit(self, s: N.Exit):
        if s.kind in ("for", "do", "while", "loop"):
            self.emit(P.Jump(target=self.find_loop(s).exit), s.span.line)
        elif s.kind in ("sub", "function") and self.b.proc is not None:
            self.emit(P.Return(), s.span.line)
        else:
            self.emit(P.EndScript(), s.span.line)

    def find_loop(self, s) -> _Loop:
        kind = "continue" if isinstance(s, N.Continue) else s.kind
        for loop in reversed(self.b.loops):
            if kind in ("loop", "continue") or loop.kind == kind:
                return loop
        word = "CONTINUE" if kind == "continue" else f"EXIT {kind.upper()}"
        raise CompileError(f"{word} outside a matching loop", s.span)

    def l_Continue(self, s: N.Continue):
        self.emit(P.Jump(target=self.find_loop(s).next), s.span.line)

    def l_Return(self, s: N.Return):
        fn = self.expression(self.lower(s.value)) if s.value is not None else None
        self.emit(P.Return(fn=fn, gosub=s.value is None), s.span.line)

    def label(self, name: str) -> _Label:
        return self.b.labels.setdefault(name.lower(), self.asm.label())

    def l_Label(self, s: N.Label):
        label = self.label(s.name)
        if label.pc >= 0:
            raise CompileError(f"label {s.name} defined twice", s.span)
        self.asm.mark(label)

    def l_Goto(self, s: N.Goto):
        cls = P.Gosub if s.gosub else P.Jump
        self.emit(cls(target=self.label(s.label)), s.span.line)

    def l_OnError(self, s: N.OnError):
        target = self.label(s.label) if s.mode == "goto" and s.label else -1
        self.emit(P.OnError(mode=s.mode, target=target), s.span.line)

    def l_Try(self, s: N.Try):
        start, end, catch, after = (self.asm.label() for _ in range(4))
        self.asm.mark(start)
        self.b.in_try += 1
        self.body(s.body)
        self.flush()
        self.b.in_try -= 1
        self.asm.mark(end)
        self.emit(P.Jump(target=after), s.span.line)
        self.asm.mark(catch)
        var = self.var(s.catch_var) if s.catch_var else None
        self.emit(P.CatchBind(var=var), s.span.line)
        self.body(s.handler)
        self.flush()
        self.asm.mark(after)
        self.asm.try_ranges.append((start, end, catch))

    def l_Throw(self, s: N.Throw):
        self.b.pending.append(N.Throw(s.span, self.lower(s.message)))

    def l_Assert(self, s: N.Assert):
        cond, message = self.lower_all([s.cond, s.message])
        self.b.pending.append(N.Assert(s.span, cond, message))

    def l_WithBlock(self, s: N.WithBlock):
        self.b.pending.append(N.WithBlock(s.span, s.name, ()))
        for key, value in s.pairs:
            target = N.Member(s.span, N.Name(s.span, s.name), key)
            self.b.pending.append(N.Assign(s.span, target, self.lower(value)))

    def l_Handler(self, s: N.Handler):
        self.body(s.body)  # only PARALLEL blocks reach here (others are pure): run in order

    def l_Procedure(self, s: N.Procedure):
        pass  # hoisted; compiled after the body

    # -- expressions
    def lower(self, e: Optional[N.Expr]) -> Optional[N.Expr]:
        """A pure expression computing ``e``; hoisted work is emitted first."""
        if e is None or self.purity.expr(e):
            return e
        method = getattr(self, "h_" + type(e).__name__, None)
        return method(e) if method is not None else self.lower_children(e)

    def lower_all(self, exprs: list) -> list:
        """Lower a left-to-right sequence: operands before the last hoisted one are
        spilled to temporaries so the hoisted work cannot change what they saw."""
        impure = [i for i, e in enumerate(exprs) if not self.purity.expr(e)]
        if not impure:
            return list(exprs)
        last = impure[-1]
        lowered = []
        for index, e in enumerate(exprs):
            value = self.lower(e)
            if index < last and value is not None:
                value = self.spill(value)
            lowered.append(value)
        return lowered

    def spill(self, e: N.Expr, force: bool = False) -> N.Expr:
        if isinstance(e, TempRef) or (isinstance(e, N.Literal) and not force):
            return e
        slot = self.b.temps.alloc()
        self.emit(P.Eval(fn=self.expression(e), slot=slot), e.span.line)
        return TempRef(e.span, slot)

    def value_slot(self, e: N.Expr) -> tuple[int, TempRef]:
        slot = self.b.temps.alloc()
        return slot, TempRef(e.span, slot)

    def h_KeywordExpr(self, e: N.KeywordExpr):
        slot, ref = self.value_slot(e)
        self.keyword(e.name, e.args, e.args, slot, e.span.line)
        return ref

    def h_CallScript(self, e: N.CallScript):
        slot, ref = self.value_slot(e)
        self.call_script(e, slot)
        return ref

    def h_Call(self, e: N.Call):
        if e.name in self.names.procedures:
            args = self.lower_all(list(e.args))
            slot, ref = self.value_slot(e)
            self.emit(P.CallProc(name=e.name, args_fn=self.arguments(args), slot=slot), e.span.line)
            return ref
        spec = self.names.function(e.name)
        if spec is not None and spec.lazy and e.name in ("iif", "if") and len(e.args) == 3:
            return self.h_Ternary(N.Ternary(e.span, *e.args))
        return replace(e, args=tuple(self.lower_all(list(e.args))))

    def h_Logical(self, e: N.Logical):
        is_and = e.op.upper() in ("AND", "&&")
        slot, ref = self.value_slot(e)
        self.emit(P.Eval(fn=self.expression(Truthy(e.span, self.lower(e.left))), slot=slot),
                  e.span.line)
        end = self.asm.label()
        self.emit(P.Branch(fn=self.expression(ref), target=end, when=not is_and), e.span.line)
        right = Truthy(e.span, self.lower(e.right))
        self.emit(P.Eval(fn=self.expression(right), slot=slot), e.span.line)
        self.asm.mark(end)
        return ref

    def h_Ternary(self, e: N.Ternary):
        slot, ref = self.value_slot(e)
        other, end = self.asm.label(), self.asm.label()
        self.branch(e.cond, other, when=False, line=e.span.line)
        self.emit(P.Eval(fn=self.expression(self.lower(e.then)), slot=slot), e.span.line)
        self.emit(P.Jump(target=end), e.span.line)
        self.asm.mark(other)
        self.emit(P.Eval(fn=self.expression(self.lower(e.other)), slot=slot), e.span.line)
        self.asm.mark(end)
        return ref

    def h_Binary(self, e: N.Binary):
        if e.op != "??" or self.purity.expr(e.right):
            left, right = self.lower_all([e.left, e.right])
            return replace(e, left=left, right=right)
        slot, ref = self.value_slot(e)
        self.emit(P.Eval(fn=self.expression(self.lower(e.left)), slot=slot), e.span.line)
        end = self.asm.label()
        present = N.IsNull(e.span, ref, negated=True)
        self.emit(P.Branch(fn=self.expression(present), target=end, when=True), e.span.line)
        self.emit(P.Eval(fn=self.expression(self.lower(e.right)), slot=slot), e.span.line)
        self.asm.mark(end)
        return ref

    def lower_children(self, e: N.Expr) -> N.Expr:
        """Generic case: lower the operands of ``e`` in evaluation order."""
        fields_, exprs = _operands(e)
        lowered = iter(self.lower_all(exprs))
        changes = {}
        for name, count in fields_:
            if count is None:
                changes[name] = next(lowered)
            elif name == "pairs":
                changes[name] = tuple((key, next(lowered)) for key, _ in e.pairs)
            elif name == "parts":
                changes[name] = tuple(p if isinstance(p, str) else next(lowered) for p in e.parts)
            else:
                changes[name] = tuple(next(lowered) for _ in range(count))
        return replace(e, **changes)


def _split_assignment(args: tuple) -> tuple:
    """``KW a = b`` (one comparison argument) -> the arguments ``a`` and ``= b``."""
    if len(args) != 1 or not isinstance(args[0].expr, N.Binary) or args[0].expr.op != "=":
        return args
    arg, expr = args[0], args[0].expr
    return (N.Arg(arg.span, arg.sep, expr.left), N.Arg(expr.right.span, "=", expr.right))


def _operands(e: N.Expr) -> tuple[list, list]:
    """The operand fields of an expression node in evaluation order:
    ([(field, None for one expr | count for a tuple)], [exprs])."""
    fields_, exprs = [], []
    for name in _OPERAND_FIELDS.get(type(e), ()):
        value = getattr(e, name)
        if name == "pairs":
            items = [v for _, v in value]
        elif name == "parts":
            items = [p for p in value if not isinstance(p, str)]
        elif isinstance(value, tuple):
            items = list(value)
        else:
            fields_.append((name, None))
            exprs.append(value)
            continue
        fields_.append((name, len(items)))
        exprs.extend(items)
    return fields_, exprs


_OPERAND_FIELDS = {
    N.Unary: ("operand",), N.Not: ("operand",), N.IsNull: ("operand",), Truthy: ("operand",),
    N.Member: ("obj",), N.Index: ("obj", "index"), N.MethodCall: ("obj", "args"),
    N.Call: ("args",), N.InList: ("operand", "items"), N.Between: ("operand", "low", "high"),
    N.ArrayLit: ("items",), N.ObjectLit: ("pairs",), N.Interpolated: ("parts",),
    N.Binary: ("left", "right"),
}
