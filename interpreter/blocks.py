"""Block builder: the parser's flat lines -> nested statements.

Every unbalanced block is reported, not just the first. The same recovery runs in both
modes; ``lenient`` (DIALECT A-58) only turns the recovery diagnostics into warnings:
blocks left open when an enclosing block's next clause (CASE, END SELECT, END SUB, end
of file ...) arrives are closed there, and unmatched closers are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from . import nodes as n
from .diagnostics import DiagnosticSink
from .parser import Line
from .tables import parse_table

# Which frame kind each middle/closing line belongs to.
TARGET = {
    "elseif": "if", "else": "if", "end_if": "if",
    "case": "select", "case_else": "select", "end_select": "select",
    "next": "loop_for", "end_for": "loop_for",
    "loop": "do", "wend": "while",
    "end_with": "with", "end_sub": "sub",
    "catch": "try", "end_try": "try",
}
CLOSERS = {"end_if", "end_select", "next", "end_for", "loop", "wend", "end_with",
           "end_sub", "end_try"}
OPENER_WORDS = {"if": "IF", "select": "SELECT CASE", "loop_for": "FOR", "do": "DO",
                "while": "WHILE", "with": "WITH", "sub": "SUB", "try": "TRY"}
CLOSER_WORDS = {"end_if": "END IF", "end_select": "END SELECT", "next": "NEXT",
                "end_for": "END FOR", "loop": "LOOP", "wend": "WEND", "end_with": "END WITH",
                "end_sub": "END SUB", "end_try": "END TRY", "elseif": "ELSE IF", "else": "ELSE",
                "case": "CASE", "case_else": "CASE ELSE", "catch": "CATCH"}


@dataclass
class Frame:
    """An open block while its lines are being collected."""

    kind: str
    line: Line
    body: list = field(default_factory=list)
    # IF: finished branches; SELECT: finished cases; TRY: the try body
    parts: list = field(default_factory=list)
    state: str = ""  # IF: "if" | "else"; SELECT: "head" | "case" | "else"; TRY: "try" | "catch"
    pending: Optional[Line] = None  # the ELSE IF / CASE line that opened the current body
    closing: Optional[Line] = None  # the line that closed the block (LOOP WHILE x)


class BlockBuilder:
    """Nests lines into statements; procedures are collected separately (hoisting)."""

    def __init__(self, sink: DiagnosticSink, lenient: bool = False):
        self.sink = sink
        self.lenient = lenient
        self.stack: list[Frame] = []
        self.root: list = []
        self.procedures: list[n.Procedure] = []

    # ------------------------------------------------------------------ public
    def build(self, lines: list[Line]) -> tuple[tuple[n.Stmt, ...], tuple[n.Procedure, ...]]:
        for line in lines:
            self._line(line)
        while self.stack:
            frame = self.stack[-1]
            self._recover(frame.line.span, f"{OPENER_WORDS[frame.kind]} without "
                                            f"{_closer_for(frame)}")
            self._close_top()
        return tuple(self.root), tuple(self.procedures)

    # ------------------------------------------------------------------ dispatch
    @property
    def body(self) -> list:
        return self.stack[-1].body if self.stack else self.root

    def _line(self, line: Line) -> None:
        kind = line.kind
        if kind == "stmt":
            self._statement(line)
        elif kind in ("if", "select", "foreach", "for", "do", "while", "with", "sub", "try"):
            self._open(line)
        elif kind in TARGET:
            self._middle_or_close(line)
        elif kind == "with_field":
            self._with_field(line)
        elif kind == "end_other":
            self._end_other(line)
        elif kind == "table":
            table = parse_table(line.data["raw"], line.span, self.sink)
            self._statement(Line("stmt", line.span, table))
        # "error": already reported by the parser

    def _statement(self, line: Line) -> None:
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.kind == "with":
            self._with_statement(frame, line.stmt)
        elif frame is not None and frame.kind == "select" and frame.state == "head":
            self.sink.at(line.span, "statements before the first CASE are not allowed")
        else:
            self.body.append(line.stmt)

    # ------------------------------------------------------------------ opening
    def _open(self, line: Line) -> None:
        kind = {"foreach": "loop_for", "for": "loop_for"}.get(line.kind, line.kind)
        if kind == "sub" and self.stack:
            self.sink.at(line.span, "SUB/FUNCTION must be defined at the top level of the script")
        frame = Frame(kind, line)
        frame.state = {"if": "if", "select": "head", "try": "try"}.get(kind, "")
        self.stack.append(frame)

    # ------------------------------------------------------------------ middles and closers
    def _middle_or_close(self, line: Line) -> None:
        target = TARGET[line.kind]
        depth = self._find(target)
        if depth is None:
            self._recover(line.span, f"{CLOSER_WORDS[line.kind]} without {OPENER_WORDS[target]}")
            return
        while len(self.stack) - 1 > depth:  # blocks left open inside this one
            inner = self.stack[-1]
            self._recover(inner.line.span, f"{OPENER_WORDS[inner.kind]} without "
                                            f"{_closer_for(inner)} (closed by "
                                            f"{CLOSER_WORDS[line.kind]} at line {line.span.line})")
            self._close_top()
        self._apply(line)

    def _find(self, kind: str) -> Optional[int]:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].kind == kind:
                return i
            if self.stack[i].kind == "sub":
                return None  # blocks never cross a procedure boundary
        return None

    def _apply(self, line: Line) -> None:
        frame = self.stack[-1]
        kind = line.kind
        if kind in ("elseif", "else"):
            self._if_clause(frame, line)
        elif kind in ("case", "case_else"):
            self._case_clause(frame, line)
        elif kind == "catch":
            self._catch_clause(frame, line)
        else:
            self._check_closer(frame, line)
            frame.closing = line
            self._close_top()

    def _if_clause(self, frame: Frame, line: Line) -> None:
        if frame.state == "else":
            self.sink.at(line.span, f"{CLOSER_WORDS[line.kind]} after ELSE")
        frame.parts.append((frame.pending or frame.line, frame.body))
        frame.body, frame.pending = [], line
        if line.kind == "else":
            frame.state = "else"

    def _case_clause(self, frame: Frame, line: Line) -> None:
        if frame.state == "else":
            self.sink.at(line.span, "CASE after CASE ELSE")
        if frame.state != "head":
            frame.parts.append((frame.pending, frame.body))
        frame.body, frame.pending = [], line
        frame.state = "else" if line.kind == "case_else" else "case"

    def _catch_clause(self, frame: Frame, line: Line) -> None:
        if frame.state == "catch":
            self.sink.at(line.span, "a second CATCH in one TRY")
        frame.parts.append(frame.body)
        frame.body, frame.pending, frame.state = [], line, "catch"

    def _check_closer(self, frame: Frame, line: Line) -> None:
        if line.kind == "next" and line.data.get("var"):
            var = frame.line.data.get("var")
            if var and var != line.data["var"]:
                self.sink.at(line.span, f"NEXT {line.data['var']} does not match FOR {var}")
        if line.kind == "loop" and frame.line.data.get("mode") and line.data.get("mode"):
            self.sink.at(line.span, "DO and LOOP cannot both have a condition")
        if line.kind == "end_sub" and line.data["function"] != frame.line.data["function"]:
            want = "END FUNCTION" if frame.line.data["function"] else "END SUB"
            self.sink.at(line.span, f"expected {want}")

    # ------------------------------------------------------------------ finishing blocks
    def _close_top(self) -> None:
        frame = self.stack.pop()
        node = getattr(self, "_finish_" + frame.kind)(frame)
        if isinstance(node, n.Procedure):
            self.procedures.append(node)
        elif node is not None and self.stack and self.stack[-1].kind == "with":
            self.sink.at(node.span, "only 'key = value' lines are allowed inside WITH")
        elif node is not None:
            self.body.append(node)

    def _finish_if(self, frame: Frame) -> n.If:
        parts = frame.parts + [(frame.pending or frame.line, frame.body)]
        branches, orelse = [], ()
        for opener, body in parts:
            if opener.kind == "else":
                orelse = tuple(body)
            else:
                branches.append(n.IfBranch(opener.span, opener.data["cond"], tuple(body)))
        return n.If(frame.line.span, tuple(branches), orelse)

    def _finish_select(self, frame: Frame) -> n.Select:
        parts = frame.parts + ([(frame.pending, frame.body)] if frame.pending else [])
        cases, orelse = [], None
        for opener, body in parts:
            if opener.kind == "case_else":
                orelse = tuple(body)
            else:
                cases.append(n.Case(opener.span, opener.data["tests"], tuple(body)))
        return n.Select(frame.line.span, frame.line.data["subject"], tuple(cases), orelse)

    def _finish_loop_for(self, frame: Frame) -> n.Stmt:
        d, span, body = frame.line.data, frame.line.span, tuple(frame.body)
        if frame.line.kind == "foreach":
            return n.ForEach(span, d["var"], d["iterable"], body)
        return n.ForRange(span, d["var"], d["start"], d["end"], d["step"], body)

    def _finish_do(self, frame: Frame) -> n.DoLoop:
        head = frame.line.data
        tail = frame.closing.data if frame.closing else {}
        if head.get("mode"):
            return n.DoLoop(frame.line.span, head["cond"], head["mode"], False, tuple(frame.body))
        return n.DoLoop(frame.line.span, tail.get("cond"), tail.get("mode"), True,
                        tuple(frame.body))

    def _finish_while(self, frame: Frame) -> n.DoLoop:
        return n.DoLoop(frame.line.span, frame.line.data["cond"], "while", False,
                        tuple(frame.body), kind="while")

    def _finish_with(self, frame: Frame) -> n.WithBlock:
        return n.WithBlock(frame.line.span, frame.line.data["name"], tuple(frame.body))

    def _finish_sub(self, frame: Frame) -> n.Procedure:
        d = frame.line.data
        return n.Procedure(frame.line.span, d["name"], tuple(d["params"]), tuple(frame.body),
                           d["function"], d["raw"])

    def _finish_try(self, frame: Frame) -> n.Try:
        if frame.state == "catch":
            body, handler = frame.parts[0], frame.body
            var = frame.pending.data.get("var")
        else:
            body, handler, var = frame.body, [], None
        return n.Try(frame.line.span, tuple(body), var, tuple(handler))

    # ------------------------------------------------------------------ WITH blocks
    def _with_statement(self, frame: Frame, stmt) -> None:
        if isinstance(stmt, n.Assign) and isinstance(stmt.target, n.Name):
            frame.body.append((stmt.target.raw, stmt.value))
        else:
            self.sink.at(stmt.span, "only 'key = value' lines are allowed inside WITH")

    def _with_field(self, line: Line) -> None:
        frame = self.stack[-1] if self.stack else None
        if frame is None or frame.kind != "with":
            self.sink.at(line.span, "'.key = value' outside WITH")
            return
        frame.body.append((line.data["key"], line.data["value"]))

    # ------------------------------------------------------------------ END ON / END PARALLEL
    def _end_other(self, line: Line) -> None:
        """``END ON``, ``END PARALLEL``, ``END SCHEDULE``...: the nearest earlier statement of
        the current body that opens such a block takes the statements after it (§9.10.2)."""
        word = line.data["word"]
        body = self.body
        for i in range(len(body) - 1, -1, -1):
            head, args = _handler_head(body[i], word)
            if head:
                handler = n.Handler(body[i].span, head, args, tuple(body[i + 1:]))
                del body[i:]
                body.append(handler)
                return
        self._recover(line.span, f"END {word} without a matching opener")

    def _recover(self, span: n.Span, message: str) -> None:
        self.sink.at(span, message, "warning" if self.lenient else "error")


def _handler_head(stmt, word: str):
    if isinstance(stmt, n.Command) and stmt.name.split(" ")[0] == word:
        return stmt.name, stmt.args
    if isinstance(stmt, n.Command) and word == "ON" and stmt.name.startswith("ON"):
        return stmt.name, stmt.args
    if isinstance(stmt, n.Unsupported) and word in stmt.raw.upper().split():
        return stmt.head, ()
    return None, ()


def _closer_for(frame: Frame) -> str:
    if frame.kind == "sub":
        return "END FUNCTION" if frame.line.data["function"] else "END SUB"
    if frame.kind == "select" and frame.line.data.get("word") == "SWITCH":
        return "END SWITCH"
    return {"if": "END IF", "select": "END SELECT", "loop_for": "NEXT", "do": "LOOP",
            "while": "WEND", "with": "END WITH", "try": "END TRY"}[frame.kind]
