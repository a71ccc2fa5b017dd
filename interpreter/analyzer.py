"""Analyzer: checks a nested script and settles what the grammar left open.

It reports every problem at once (the :class:`DiagnosticSink` collects them) and returns
a cleaned AST plus the script's static declarations:

* keyword calls are checked against their signature shapes; the value-only keyword forms
  of functions (``FORMAT x AS p``, ``FIRST x``, ``DATEADD d, u, n``) become function calls;
* ``name(args)`` resolves to a built-in function, a script FUNCTION/SUB or a keyword
  written with parentheses (``GET_BOT_MEMORY("k")``); ``CALL`` forms resolve per §6.2;
* PARAM / DESCRIPTION / SET SCHEDULE / WEBHOOK / TABLE / ON ... become declarations (§1.6)
  and leave the executable body;
* EXIT/NEXT/BREAK outside their loops, GOTO to unknown labels, duplicate procedures and
  statements that are not statements are errors; unknown statements are warnings (§12.3).
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from ..keywords.registry import normalize_phrase, shape_of
from . import nodes as n
from .declarations import Schedule, ScriptInfo
from .diagnostics import DiagnosticSink
from .parser import ParenList
from .schedules import ScheduleError, schedule_to_cron, webhook_name

# Keyword forms of built-in functions: phrase -> function name.
FUNCTION_FORMS = {"FORMAT": "format", "FIRST": "first", "LAST": "last", "MAX": "max",
                  "MIN": "min", "DATEADD": "dateadd", "DATEDIFF": "datediff",
                  "JSON PARSE": "parse_json"}
DECLARATION_ONLY = {"SET SCHEDULE", "WEBHOOK", "ON EMAIL", "ON CHANGE", "ON FORM SUBMIT",
                    "ON INSERT OF", "ON UPDATE OF", "ON DELETE OF", "ON INSERT", "ON UPDATE",
                    "ON DELETE"}
LOOP_OF = {"for": ("for",), "do": ("do",), "while": ("while",), "loop": ("for", "do", "while")}


@dataclasses.dataclass
class _Scope:
    """Where the statement being checked stands."""

    loops: tuple[str, ...] = ()
    procedure: Optional[n.Procedure] = None
    conditional: bool = False
    nested: bool = False  # inside any block


class Analyzer:
    """One pass over one script (see the module docstring)."""

    def __init__(self, registry, sink: DiagnosticSink, info: ScriptInfo):
        self.registry = registry
        self.sink = sink
        self.info = info
        self.procs: dict[str, n.Procedure] = {}
        self.assigned: set[str] = set()
        self.labels: dict[Optional[str], set[str]] = {}

    # ------------------------------------------------------------------ entry
    def run(self, body, procedures) -> n.Script:
        self._collect(body, procedures)
        new_body = self._block(body, _Scope())
        new_procs = tuple(self._procedure(p) for p in procedures)
        return n.Script(n.Span(self.info.file, 1, 1), self.info.name, new_body, new_procs,
                        self.info.workflow)

    def _collect(self, body, procedures) -> None:
        for proc in procedures:
            self._declare_procedure(proc)
        collector = _Collector(self.assigned, self.labels)
        collector.scope = None
        for stmt in body:
            collector.visit(stmt)
        for proc in procedures:
            collector.scope = proc.name
            self.assigned.update(proc.params)
            for stmt in proc.body:
                collector.visit(stmt)

    def _declare_procedure(self, proc: n.Procedure) -> None:
        if proc.name in self.procs:
            self.sink.at(proc.span, f"{proc.raw} is defined twice (first at line "
                                    f"{self.procs[proc.name].span.line})")
        elif self.registry.function_spec(proc.name) is not None:
            self.sink.at(proc.span, f"{proc.raw} is the name of a built-in function")
        self.procs[proc.name] = proc

    def _procedure(self, proc: n.Procedure) -> n.Procedure:
        scope = _Scope(procedure=proc, nested=True)
        return dataclasses.replace(proc, body=self._block(proc.body, scope))

    # ------------------------------------------------------------------ statements
    def _block(self, stmts, scope: _Scope) -> tuple:
        out = []
        for stmt in stmts:
            result = self._stmt(stmt, scope)
            if result is not None:
                out.append(result)
        return tuple(out)

    def _stmt(self, stmt, scope: _Scope):
        method = getattr(self, "_s_" + type(stmt).__name__, None)
        if method is None:
            raise TypeError(f"analyzer cannot handle {type(stmt).__name__}")
        return method(stmt, scope)

    def _s_Assign(self, s: n.Assign, scope):
        if not isinstance(s.target, (n.Name, n.Member, n.Index)):
            self.sink.at(s.span, "cannot assign to this expression")
        return dataclasses.replace(s, target=self._x(s.target), value=self._x(s.value))

    def _s_Command(self, s: n.Command, scope):
        spec = self.registry.keywords.get(s.name)
        s = dataclasses.replace(s, args=self._args(s.args))
        if s.name == "PARAM":
            return self._param(s, scope)
        if s.name == "DESCRIPTION":
            return self._description(s)
        if s.name == "SET":
            s = _split_set_equals(s)
        self._check_shape(spec, s.name, s.args, s.span)
        if spec is not None and spec.target:
            self._check_target(s)
        if spec is not None and spec.handler is None and spec.value is False \
                and self.registry.function_spec(s.name.replace(" ", "_")) is not None:
            return self._as_function_statement(s)  # PUSH arr, v  ==  PUSH(arr, v)
        if s.name in DECLARATION_ONLY or s.name.startswith("ON "):
            self._declaration(s, scope)
            return None
        if s.name == "USE WEBSITE":
            self._website(s)
        return s

    def _as_function_statement(self, s: n.Command) -> n.ExprStmt:
        values = tuple(a.expr for a in s.args if a.expr is not None)
        name = s.name.replace(" ", "_").lower()
        return n.ExprStmt(s.span, n.Call(s.span, name, values, s.name))

    def _s_Verbatim(self, s: n.Verbatim, scope):
        header = self._x(s.header) if s.header is not None else None
        return dataclasses.replace(s, text=self._x(s.text), header=header)

    def _s_If(self, s: n.If, scope):
        inner = dataclasses.replace(scope, conditional=True, nested=True)
        branches = tuple(dataclasses.replace(b, cond=self._x(b.cond), body=self._block(b.body, inner))
                         for b in s.branches)
        return dataclasses.replace(s, branches=branches, orelse=self._block(s.orelse, inner))

    def _s_Select(self, s: n.Select, scope):
        inner = dataclasses.replace(scope, conditional=True, nested=True)
        cases = tuple(dataclasses.replace(c, tests=tuple(self._case_test(t) for t in c.tests),
                                          body=self._block(c.body, inner)) for c in s.cases)
        orelse = self._block(s.orelse, inner) if s.orelse is not None else None
        return dataclasses.replace(s, subject=self._x(s.subject), cases=cases, orelse=orelse)

    def _case_test(self, t: n.CaseTest) -> n.CaseTest:
        high = self._x(t.high) if t.high is not None else None
        return dataclasses.replace(t, value=self._x(t.value), high=high)

    def _s_ForEach(self, s: n.ForEach, scope):
        inner = self._loop_scope(scope, "for")
        return dataclasses.replace(s, iterable=self._x(s.iterable), body=self._block(s.body, inner))

    def _s_ForRange(self, s: n.ForRange, scope):
        inner = self._loop_scope(scope, "for")
        step = self._x(s.step) if s.step is not None else None
        if isinstance(step, n.Literal) and step.value == 0:
            self.sink.at(step.span, "STEP 0 would never end")
        return dataclasses.replace(s, start=self._x(s.start), end=self._x(s.end), step=step,
                                   body=self._block(s.body, inner))

    def _s_DoLoop(self, s: n.DoLoop, scope):
        inner = self._loop_scope(scope, s.kind)
        cond = self._x(s.cond) if s.cond is not None else None
        return dataclasses.replace(s, cond=cond, body=self._block(s.body, inner))

    def _loop_scope(self, scope: _Scope, kind: str) -> _Scope:
        return dataclasses.replace(scope, loops=scope.loops + (kind,), nested=True)

    def _s_Exit(self, s: n.Exit, scope):
        if s.kind in LOOP_OF and not any(k in LOOP_OF[s.kind] for k in scope.loops):
            word = "BREAK" if s.kind == "loop" else f"EXIT {s.kind.upper()}"
            self.sink.at(s.span, f"{word} outside a {'/'.join(LOOP_OF[s.kind]).upper()} loop")
        elif s.kind in ("sub", "function"):
            proc = scope.procedure
            if proc is None or proc.is_function != (s.kind == "function"):
                self.sink.at(s.span, f"EXIT {s.kind.upper()} outside a {s.kind.upper()}")
        return s

    def _s_Continue(self, s: n.Continue, scope):
        if not scope.loops:
            self.sink.at(s.span, "CONTINUE outside a loop")
        return s

    def _s_Return(self, s: n.Return, scope):
        return dataclasses.replace(s, value=self._x(s.value)) if s.value is not None else s

    def _s_WithBlock(self, s: n.WithBlock, scope):
        self.assigned.add(s.name)
        return dataclasses.replace(s, pairs=tuple((k, self._x(v)) for k, v in s.pairs))

    def _s_Label(self, s: n.Label, scope):
        return s

    def _s_Goto(self, s: n.Goto, scope):
        name = scope.procedure.name if scope.procedure else None
        if s.label not in self.labels.get(name, set()):
            self.sink.at(s.span, f"label {s.label} is not defined in this "
                                 f"{'procedure' if name else 'script body'}")
        return s

    def _s_ExprStmt(self, s: n.ExprStmt, scope):
        expr = s.expr
        if isinstance(expr, n.CallScript):
            return self._call_statement(expr)
        if isinstance(expr, n.Call) and expr.name in self.procs:
            return n.CallProc(s.span, expr.name, tuple(self._x(a) for a in expr.args))
        expr = self._x(expr)
        if isinstance(expr, n.KeywordExpr):
            return n.Command(expr.span, expr.name, expr.args)
        if not isinstance(expr, (n.Call, n.MethodCall)):
            self.sink.at(s.span, "this expression is not a statement")
        return n.ExprStmt(s.span, expr)

    def _call_statement(self, call: n.CallScript):
        target = call.script
        if isinstance(target, (n.Name, n.Call)) and not call.args:
            name = target.name
            args = tuple(self._x(a) for a in getattr(target, "args", ()))
            if name in self.procs:
                return n.CallProc(call.span, name, args)
            return n.ExprStmt(call.span, n.CallScript(call.span, n.Literal(target.span, name), args))
        return n.ExprStmt(call.span, self._x(call))

    def _s_CallProc(self, s: n.CallProc, scope):
        return dataclasses.replace(s, args=tuple(self._x(a) for a in s.args))

    def _s_OnError(self, s: n.OnError, scope):
        if s.mode == "goto":
            self._s_Goto(n.Goto(s.span, s.label), scope)
        return s

    def _s_Throw(self, s: n.Throw, scope):
        return dataclasses.replace(s, message=self._x(s.message))

    def _s_Assert(self, s: n.Assert, scope):
        msg = self._x(s.message) if s.message is not None else None
        return dataclasses.replace(s, cond=self._x(s.cond), message=msg)

    def _s_Try(self, s: n.Try, scope):
        inner = dataclasses.replace(scope, nested=True)
        return dataclasses.replace(s, body=self._block(s.body, inner),
                                   handler=self._block(s.handler, inner))

    def _s_TableDef(self, s: n.TableDef, scope):
        self.info.tables.append(s)
        return None

    def _s_Handler(self, s: n.Handler, scope):
        if s.head.startswith("ON") and s.head in self.registry.keywords:
            inner = dataclasses.replace(scope, nested=True)
            handler = dataclasses.replace(s, args=self._args(s.args), body=self._block(s.body, inner))
            self.info.triggers.append(handler)
            return None
        self.sink.at(s.span, f"{s.head} ... END block is not supported; running it raises an error",
                     "warning")
        return n.Unsupported(s.span, s.head, s.head)

    def _s_Unsupported(self, s: n.Unsupported, scope):
        words = s.raw.split()
        name = words[0].lower().rstrip("$") if words else ""
        if name in self.procs and len(words) == 1:
            return n.CallProc(s.span, name, ())
        if not self.sink.has_any_on(s.span.line):  # lenient mode already said why
            self.sink.at(s.span, f"{s.head} is not supported; running this statement raises an "
                                 "error", "warning")
        return s

    def _s_If_single(self, s, scope):  # pragma: no cover - If covers both forms
        return self._s_If(s, scope)

    # ------------------------------------------------------------------ declarations
    def _param(self, s: n.Command, scope: _Scope):
        if scope.procedure is not None:
            self.sink.at(s.span, "PARAM inside a SUB declares a parameter of the whole script",
                         "warning")
        elif scope.nested:
            self.sink.at(s.span, "PARAM is static: it applies even inside a block", "warning")
        for param in _params_of(s, self.sink):
            self.info.params.append(param)
            self.assigned.add(param.name.lower())
        return None

    def _description(self, s: n.Command):
        arg = s.args[0].expr if s.args else None
        if isinstance(arg, n.Literal) and isinstance(arg.value, str):
            self.info.description = arg.value
        else:
            self.sink.at(s.span, "DESCRIPTION expects a text")
        return None

    def _declaration(self, s: n.Command, scope: _Scope) -> None:
        if s.name == "SET SCHEDULE":
            self._schedule(s, scope)
        elif s.name == "WEBHOOK":
            text = _literal_text(s)
            if text is None:
                self.sink.at(s.span, "WEBHOOK expects a literal name")
            else:
                self.info.webhooks.append(webhook_name(text))
        else:
            self.info.triggers.append(s)

    def _schedule(self, s: n.Command, scope: _Scope) -> None:
        arg = s.args[0].expr if s.args else None
        text = arg.value if isinstance(arg, n.Literal) and isinstance(arg.value, str) else None
        if text is None:
            self.sink.at(s.span, "SET SCHEDULE expects a literal schedule", "warning")
            return
        try:
            cron = schedule_to_cron(text)
        except ScheduleError as exc:
            self.sink.at(s.span, str(exc))
            return
        if scope.conditional:
            self.sink.at(s.span, "SET SCHEDULE is static: it applies even inside IF/SELECT",
                         "warning")
        if self.info.schedules:
            self.sink.at(s.span, "several SET SCHEDULE lines: each one is registered", "warning")
        self.info.schedules.append(Schedule(text, cron, s.span.line))

    def _website(self, s: n.Command) -> None:
        url = _literal_text(s)
        refresh = s.args[1].expr if len(s.args) > 1 else None
        if url is not None:
            ref = refresh.value if isinstance(refresh, n.Literal) else None
            self.info.websites.append((url, ref))

    # ------------------------------------------------------------------ keyword arguments
    def _args(self, args) -> tuple:
        return tuple(dataclasses.replace(a, expr=self._x(a.expr)) if a.expr is not None else a
                     for a in args)

    def _check_shape(self, spec, name: str, args, span: n.Span) -> None:
        if spec is None:
            self.sink.at(span, f"unknown keyword {name}")
            return
        shape = shape_of(args)
        if not spec.matches(shape) and not self.sink.has_error_on(span.line, span.end_line or span.line):
            got = shape.replace("x", "expr") or "nothing"
            self.sink.at(span, f"{name} does not accept '{got}'; expected {spec.describe_shapes()}")

    def _check_target(self, s: n.Command) -> None:
        first = s.args[0] if s.args else None
        if first is not None and first.sep is None and not isinstance(
                first.expr, (n.Name, n.Member, n.Index)):
            self.sink.at(first.span, f"{s.name} needs a variable to store the answer in")

    # ------------------------------------------------------------------ expressions
    def _x(self, e):
        if e is None:
            return None
        method = _EXPR.get(type(e))
        return method(self, e) if method else e

    def _x_call(self, e: n.Call):
        args = tuple(self._x(a) for a in e.args)
        fn = self.registry.function_spec(e.name)
        if fn is not None:
            self._check_arity(fn, e, len(args))
            return dataclasses.replace(e, args=args)
        if e.name in self.procs:
            return dataclasses.replace(e, args=args)
        spec = self.registry.keywords.get(normalize_phrase(e.raw or e.name))
        if spec is not None and spec.value:
            kw_args = tuple(n.Arg(a.span, None if i == 0 else ",", a) for i, a in enumerate(args))
            return self._x_keyword(n.KeywordExpr(e.span, spec.phrase, kw_args, parens=True))
        if e.name not in self.assigned:
            self.sink.at(e.span, f"unknown function {e.raw or e.name}", "warning")
        return dataclasses.replace(e, args=args)

    def _check_arity(self, fn, e: n.Call, count: int) -> None:
        if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
            want = str(fn.min_args) if fn.max_args == fn.min_args else (
                f"{fn.min_args} or more" if fn.max_args is None else f"{fn.min_args} to {fn.max_args}")
            self.sink.at(e.span, f"{(e.raw or e.name).upper()} takes {want} argument"
                                 f"{'' if want == '1' else 's'}, not {count}")

    def _x_keyword(self, e: n.KeywordExpr):
        spec = self.registry.keywords.get(e.name)
        args = self._args(e.args)
        function = FUNCTION_FORMS.get(e.name)
        if function and self.registry.function_spec(function) is not None and (
                spec is None or spec.handler is None):
            return self._function_form(e, function, args)
        self._check_shape(spec, e.name, args, e.span)
        if spec is not None and not spec.value:
            self.sink.at(e.span, f"{e.name} does not produce a value")
        return dataclasses.replace(e, args=args)

    def _function_form(self, e: n.KeywordExpr, function: str, args) -> n.Expr:
        spec = self.registry.keywords.get(e.name)
        self._check_shape(spec, e.name, args, e.span)
        values = [a.expr for a in args if a.expr is not None]
        if function == "format" and len(values) == 2 and isinstance(values[1], n.Name) \
                and values[1].name == "json":
            values[1] = n.Literal(values[1].span, "JSON")
        return n.Call(e.span, function, tuple(values), e.name)

    def _x_tight(self, e: n.Call):
        return self._x_call(e)

    def _x_call_script(self, e: n.CallScript):
        target = e.script
        args = tuple(self._x(a) for a in e.args)
        if isinstance(target, n.Call) and not e.args:
            if target.name in self.procs:
                return self._x_call(target)
            return n.CallScript(e.span, n.Literal(target.span, target.name),
                                tuple(self._x(a) for a in target.args))
        if isinstance(target, n.Name):
            if target.name in self.procs:
                return n.Call(e.span, target.name, args, target.raw)
            return n.CallScript(e.span, n.Literal(target.span, target.name), args)
        return n.CallScript(e.span, self._x(target), args)

    def _x_chain(self, e):
        """A left-deep chain of binary operators (``a + b + c + ...``, hundreds long in
        generated prompts) is rewritten without recursing once per operator."""
        spine = []
        node = e
        while type(node) in (n.Binary, n.Logical):
            spine.append(node)
            node = node.left
        result = self._x(node)
        for link in reversed(spine):
            right = self._x(link.right)
            if result is not link.left or right is not link.right:
                link = dataclasses.replace(link, left=result, right=right)
            result = link
        return result

    def _x_paren(self, e):
        self.sink.at(e.span, "unexpected ',' inside parentheses")
        return self._x(e.items[0]) if e.items else n.Literal(e.span, None)

    def _x_generic(self, e):
        changes = {}
        for f in dataclasses.fields(e):
            if f.name == "span":
                continue
            value = getattr(e, f.name)
            new = self._x_value(value)
            if new is not value:
                changes[f.name] = new
        return dataclasses.replace(e, **changes) if changes else e

    def _x_value(self, value):
        if isinstance(value, n.Node):
            return self._x(value)
        if isinstance(value, tuple) and value:
            items = tuple(self._x_value(v) for v in value)
            return items if any(a is not b for a, b in zip(items, value)) else value
        return value


_EXPR = {
    n.Call: Analyzer._x_call,
    n.KeywordExpr: Analyzer._x_keyword,
    n.CallScript: Analyzer._x_call_script,
    ParenList: Analyzer._x_paren,
}
for _cls in (n.Member, n.Index, n.MethodCall, n.Unary, n.Not, n.IsNull,
             n.InList, n.Between, n.Ternary, n.ArrayLit, n.ObjectLit, n.Interpolated):
    _EXPR[_cls] = Analyzer._x_generic
_EXPR[n.Binary] = _EXPR[n.Logical] = Analyzer._x_chain


class _Collector(n.Walker):
    """First pass: names that are assigned anywhere and the labels of each scope."""

    def __init__(self, assigned: set, labels: dict):
        self.assigned, self.labels, self.scope = assigned, labels, None

    def visit_Assign(self, s: n.Assign):
        root = s.target
        while isinstance(root, (n.Member, n.Index)):
            root = root.obj
        if isinstance(root, n.Name):
            self.assigned.add(root.name)

    def visit_ForEach(self, s):
        self.assigned.add(s.var)
        self.generic_visit(s)

    def visit_ForRange(self, s):
        self.assigned.add(s.var)
        self.generic_visit(s)

    def visit_Label(self, s: n.Label):
        self.labels.setdefault(self.scope, set()).add(s.name)

    def visit_Command(self, s: n.Command):
        if s.args and s.args[0].sep is None and isinstance(s.args[0].expr, n.Name):
            self.assigned.add(s.args[0].expr.name)  # HEAR x ..., GET-style targets

    def visit_Expr(self, e):  # expressions need no walk here
        return None


def _params_of(s: n.Command, sink: DiagnosticSink) -> list[n.Param]:
    """PARAM name [AS type] [LIKE ex] [DESCRIPTION d] [OPTIONAL|REQUIRED] [DEFAULT v] [ENUM [..]]
    and the Compat forms ``PARAM a, b, c`` / ``PARAM x AS "desc"`` / ``PARAM x AS "a", "b"``."""
    if all(a.sep in (None, ",") for a in s.args) and len(s.args) > 1:
        return [_simple_param(a, sink) for a in s.args if a.expr is not None]
    fields: dict = {}
    name_arg = s.args[0] if s.args else None
    name = _param_name(name_arg, sink, s.span)
    as_values: list = []
    current = None
    for arg in s.args[1:]:
        if arg.sep == ",":
            if current == "AS":
                as_values.append(arg.expr)
            continue
        current = arg.sep
        if arg.sep == "AS":
            as_values.append(arg.expr)
        else:
            _param_clause(fields, arg, sink)
    _param_type(fields, as_values, sink, s.span)
    return [n.Param(s.span, name, **fields)]


def _param_name(arg, sink, span) -> str:
    if arg is None:
        sink.at(span, "PARAM needs a name")
        return "_"
    if arg.expr is None and arg.sep:  # `PARAM description AS ...` read as the connector
        return arg.sep.lower()
    if isinstance(arg.expr, n.Name):
        return arg.expr.raw
    sink.at(arg.span, "PARAM needs a name")
    return "_"


def _simple_param(arg: n.Arg, sink) -> n.Param:
    name = arg.expr.raw if isinstance(arg.expr, n.Name) else "_"
    if name == "_":
        sink.at(arg.span, "PARAM needs a name")
    return n.Param(arg.span, name)


def _param_clause(fields: dict, arg: n.Arg, sink) -> None:
    sep, expr = arg.sep, arg.expr
    if sep == "OPTIONAL":
        fields["optional"] = True
    elif sep == "REQUIRED":
        fields["optional"] = False
    elif sep == "LIKE":
        fields["like"], fields["has_like"] = _like_value(expr), True
    elif sep == "DESCRIPTION":
        fields["description"] = _text_of(expr)
    elif sep == "DEFAULT":
        fields["default"], fields["optional"] = expr, True
    elif sep == "ENUM":
        items = expr.items if isinstance(expr, n.ArrayLit) else (expr,)
        fields["enum"] = tuple(i.value if isinstance(i, n.Literal) else _text_of(i) for i in items)


def _param_type(fields: dict, values: list, sink, span) -> None:
    if not values:
        return
    first = values[0]
    if isinstance(first, n.Name) and len(values) == 1:
        fields["type"] = first.raw.upper()
    elif all(isinstance(v, n.Literal) and isinstance(v.value, str) for v in values):
        if len(values) == 1:  # PARAM x AS "description" (Compat)
            fields.setdefault("description", values[0].value)
        else:  # PARAM unit AS "celsius", "fahrenheit" (Compat enumeration)
            fields["enum"] = tuple(v.value for v in values)
    else:
        sink.at(span, "PARAM ... AS expects a type name")


def _like_value(expr):
    if isinstance(expr, n.Literal):
        return expr.value
    if isinstance(expr, n.Name):
        return expr.raw
    return _text_of(expr)


def _text_of(expr) -> Optional[str]:
    if isinstance(expr, n.Literal):
        return None if expr.value is None else str(expr.value)
    if isinstance(expr, n.Interpolated):
        return "".join(p if isinstance(p, str) else "${...}" for p in expr.parts)
    if isinstance(expr, n.Name):
        return expr.raw
    return None


def _literal_text(s: n.Command) -> Optional[str]:
    arg = s.args[0].expr if s.args else None
    if isinstance(arg, n.Literal) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, n.Name):
        return arg.raw
    return None


def _split_set_equals(s: n.Command) -> n.Command:
    """``SET "session.k" = v`` arrives as one comparison; make it ``SET "session.k", v``."""
    if len(s.args) == 1 and isinstance(s.args[0].expr, n.Binary) and s.args[0].expr.op == "=":
        cmp = s.args[0].expr
        return dataclasses.replace(s, args=(n.Arg(cmp.left.span, None, cmp.left),
                                            n.Arg(cmp.right.span, ",", cmp.right)))
    return s
