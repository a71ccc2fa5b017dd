"""Parser: scanner tokens -> flat list of :class:`Line` items (via the Lark LALR grammar).

The Lark parser is built once per process (grammar in ``grammar.lark``) and fed by the
project's scanner through a custom lexer. A tree-less inline transformer builds AST nodes
while parsing. A file that parses in one go costs one Lark call; when it does not, every
logical line is parsed on its own so that *all* syntax errors are reported.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput, UnexpectedToken, UnexpectedEOF
from lark.lexer import Lexer

from . import nodes as n
from .diagnostics import DiagnosticSink
from .literals import RawBlock, StringPart, VerbatimBlock, interpolation_parts
from .scanner import Scanner

GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")


@dataclass
class Line:
    """One logical line: a simple statement (``kind == "stmt"``) or a block part
    (``if``, ``else``, ``end_if``, ``for``, ``next`` ...) that the analyzer nests."""

    kind: str
    span: n.Span
    stmt: Optional[n.Stmt] = None
    data: dict = field(default_factory=dict)


class _TokenListLexer(Lexer):
    """Lark lexer that hands over tokens the scanner already produced."""

    def __init__(self, lexer_conf):
        pass

    def lex(self, data):  # data: a list of lark Tokens
        return iter(data)


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser, built once per process."""
    return Lark(GRAMMAR_FILE.read_text(), parser="lalr", lexer=_TokenListLexer,
                start=["start", "one_line", "expr"], transformer=_BUILDER,
                maybe_placeholders=True)


class _Context:
    """What the (shared, stateless) builder needs to know about the file being parsed."""

    def __init__(self, text: str, file: str, registry, sink: DiagnosticSink):
        self.text, self.file, self.registry, self.sink = text, file, registry, sink


_CTX: list[_Context] = []

_BINOPS = {"PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/", "BSLASH": "\\", "MOD": "MOD",
           "PERCENT": "MOD", "CARET": "^", "POW": "^", "AMP": "&", "QQ": "??"}
_CMPOPS = {"EQ": "=", "EQEQ": "=", "NE": "<>", "LT": "<", "GT": ">", "LE": "<=", "GE": ">="}


def norm(name: str) -> str:
    return name.rstrip("$").lower()


def tspan(tok: Token) -> n.Span:
    return n.Span(_CTX[-1].file, tok.line, tok.column, tok.end_line or tok.line,
                  tok.end_column or tok.column)


def span_of(item) -> n.Span:
    if isinstance(item, Token):
        return tspan(item)
    if isinstance(item, n.Node):
        return item.span
    if isinstance(item, (list, tuple)):
        for sub in item:
            if sub is not None:
                return span_of(sub)
    if isinstance(item, Line):
        return item.span
    return n.NO_SPAN


def _real(children) -> list:
    """Children without the keyword tokens that carry no value."""
    return [c for c in children if not (isinstance(c, Token) and c.type not in _VALUE_TOKENS)]


_VALUE_TOKENS = {"NAME", "NUMBER", "STRING", "ISTRING", "KW", "KWP", "KWCALL", "TIGHT", "CONN", "KWOP", "KWOPG",
                 "LABEL", "VERBATIM", "TABLE", "UNSUPPORTED"}


class ParenList(n.Expr):
    """``(a, b)``: only meaningful after IN; rejected anywhere else by the analyzer."""

    __slots__ = ("items",)

    def __init__(self, span, items):
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "items", tuple(items))


class _Builder(Transformer):
    """Inline transformer: Lark calls these while parsing (no parse tree is built)."""

    # ------------------------------------------------------------- program
    def start(self, children):
        out: list[Line] = []
        for child in children:
            if isinstance(child, Token):
                continue
            out.extend(_as_lines(child))
        return out

    def one_line(self, children):
        return _as_lines(children[0])

    # ------------------------------------------------------------- literals and names
    def number(self, c):
        return n.Literal(tspan(c[0]), c[0].value)

    def string(self, c):
        return n.Literal(tspan(c[0]), c[0].value)

    def istring(self, c):
        return n.Interpolated(tspan(c[0]), tuple(_parts(c[0].value)))

    def true(self, c):
        return n.Literal(tspan(c[0]), True)

    def false(self, c):
        return n.Literal(tspan(c[0]), False)

    def null(self, c):
        return n.Literal(tspan(c[0]), None)

    def name(self, c):
        return n.Name(tspan(c[0]), norm(c[0].value), c[0].value)

    def call(self, c):
        tok, args = c[0], c[2]
        return n.Call(tspan(tok), norm(tok.value), tuple(args or ()), tok.value)

    def paren(self, c):
        items = c[1]
        if len(items) == 1:
            return items[0]
        return ParenList(tspan(c[0]), items)

    def array(self, c):
        return n.ArrayLit(tspan(c[0]), tuple(c[1] or ()))

    def object(self, c):
        return n.ObjectLit(tspan(c[0]), tuple(c[1] or ()))

    def new_object(self, c):
        return n.ObjectLit(tspan(c[0]), ())

    def new_array(self, c):
        return n.ArrayLit(tspan(c[0]), ())

    def expr_list(self, c):
        return [x for x in c if not isinstance(x, Token) and x is not None]

    def pairs(self, c):
        return [x for x in c if isinstance(x, tuple)]

    def pair(self, c):
        key = c[0]
        text = key.value if key.type != "NUMBER" else str(key.value)
        return (str(text), c[2])

    def kw_call(self, c):
        return n.KeywordExpr(tspan(c[0]), c[0].value, tuple(c[2]), parens=True)

    def kw_operand(self, c):
        args, sep = [], None
        for item in c[1:]:
            if isinstance(item, Token):
                if sep is not None and sep != ",":
                    args.append(n.Arg(tspan(item), sep, None))  # a bare connector (DESC)
                sep = "," if item.type == "COMMA" else item.value.upper()
            elif item is not None:
                args.append(n.Arg(item.span, sep, item))
                sep = None
        if sep is not None and sep != ",":
            args.append(n.Arg(tspan(c[0]), sep, None))
        return n.KeywordExpr(tspan(c[0]), c[0].value, tuple(args))

    def unknown_operand(self, c):
        return n.Call(tspan(c[0]), norm(c[0].value), (c[1],), c[0].value)

    def call_operand(self, c):
        args = (c[3],) if len(c) > 3 and c[3] is not None else ()
        return n.CallScript(tspan(c[0]), c[1], args)

    def starts_with(self, c):
        return n.Call(c[0].span, "startswith", (c[0], c[2]), "STARTSWITH")

    def ends_with(self, c):
        return n.Call(c[0].span, "endswith", (c[0], c[2]), "ENDSWITH")

    def tight(self, c):
        args = (c[1],) if c[3] is None else (c[1], c[3])
        return n.Call(tspan(c[0]), c[0].value.lower(), args, c[0].value)

    # ------------------------------------------------------------- operators
    def member(self, c):
        return n.Member(c[0].span, c[0], c[2].value)

    def index(self, c):
        return n.Index(c[0].span, c[0], c[2])

    def method(self, c):
        return n.MethodCall(c[0].span, c[0], c[2].value.lower(), tuple(c[4] or ()))

    def binop(self, c):
        return n.Binary(c[0].span, _BINOPS[c[1].type], c[0], c[2])

    def unary_op(self, c):
        op, operand = c[0].value, c[1]
        if isinstance(operand, n.Literal) and type(operand.value) in (int, float):
            return n.Literal(tspan(c[0]), -operand.value if op == "-" else operand.value)
        return n.Unary(tspan(c[0]), op, operand)

    def cmp_op(self, c):
        return c[0]

    def compare(self, c):
        return n.Binary(c[0].span, _CMPOPS[c[1].type], c[0], c[2])

    def is_null(self, c):
        return n.IsNull(c[0].span, c[0], negated=c[2] is not None)

    def is_word(self, c):
        word = c[3].value.upper()
        if word == "EMPTY":
            return n.IsNull(c[0].span, c[0], negated=c[2] is not None, empty=True)
        _CTX[-1].sink.at(tspan(c[3]), f"expected NULL or EMPTY after IS, found {c[3].value}")
        return c[0]

    def in_op(self, c):
        operand, negated, target = c[0], c[1] is not None, c[3]
        if isinstance(target, ParenList):
            return n.InList(operand.span, operand, target.items, negated)
        return n.InList(operand.span, operand, (target,), negated, collection=True)

    def like_op(self, c):
        node = n.Binary(c[0].span, "LIKE", c[0], c[3])
        return n.Not(node.span, node) if c[1] is not None else node

    def contains_op(self, c):
        return n.Binary(c[0].span, "CONTAINS", c[0], c[2])

    def between(self, c):
        return n.Between(c[0].span, c[0], c[2], c[4])

    def not_op(self, c):
        return n.Not(tspan(c[0]), c[1])

    def logical(self, c):
        op = "AND" if c[1].type in ("AND", "ANDAND") else "OR"
        return n.Logical(c[0].span, op, c[0], c[2])

    def ternary(self, c):
        return n.Ternary(c[0].span, c[0], c[2], c[4])

    # ------------------------------------------------------------- keyword calls
    def args(self, c):
        first, tail = c[0], c[1:]
        items = [] if first is None else [n.Arg(first.span, None, first)]
        return tuple(items + list(tail))

    def comma_arg(self, c):
        return n.Arg(tspan(c[0]), ",", c[1])

    def conn_arg(self, c):
        return n.Arg(tspan(c[0]), c[0].value.upper(), c[1])

    def command(self, c):
        tok = c[0]
        args = c[2] if tok.type == "KWP" else c[1]
        return n.Command(tspan(tok), tok.value, tuple(args))

    def rhs(self, c):
        return c[0]

    def kw_expr(self, c):
        tok = c[0]
        args = c[2] if tok.type == "KWP" else c[1]
        return n.KeywordExpr(tspan(tok), tok.value, tuple(args), parens=tok.type == "KWP")

    def call_expr(self, c):
        exprs = [x for x in c[1:] if not isinstance(x, Token)]
        return n.CallScript(tspan(c[0]), exprs[0], tuple(exprs[1:]))

    # ------------------------------------------------------------- simple statements
    def assign(self, c):
        target, value = [x for x in c if not isinstance(x, Token)]
        return n.Assign(target.span, target, value)

    def expr_stmt(self, c):
        return n.ExprStmt(c[0].span, c[0])

    def call_stmt(self, c):
        return n.ExprStmt(tspan(c[0]), self.call_expr(c))

    def exit_kind(self, c):
        return c[0].type.lower()

    def exit_stmt(self, c):
        return n.Exit(tspan(c[0]), c[1] or "script")

    def break_stmt(self, c):
        return n.Exit(tspan(c[0]), "loop")

    def continue_stmt(self, c):
        return n.Continue(tspan(c[0]))

    def end_stmt(self, c):
        return n.Exit(tspan(c[0]), "script")

    def return_stmt(self, c):
        return n.Return(tspan(c[0]), c[1])

    def return_with(self, c):
        pairs = _as_pairs(c[2], tspan(c[0]))
        return n.Return(tspan(c[0]), n.ObjectLit(tspan(c[1]), tuple(pairs)))

    def goto_stmt(self, c):
        return n.Goto(tspan(c[0]), str(c[1].value).lower())

    def gosub_stmt(self, c):
        return n.Goto(tspan(c[0]), c[1].value.lower(), gosub=True)

    def on_error_resume(self, c):
        if c[1].value.upper() != "RESUME":
            _CTX[-1].sink.at(tspan(c[1]), "expected ON ERROR RESUME NEXT")
        return n.OnError(tspan(c[0]), "resume_next")

    def on_error_goto(self, c):
        target = c[2].value
        if target == 0:
            return n.OnError(tspan(c[0]), "goto0")
        return n.OnError(tspan(c[0]), "goto", str(target).lower())

    def clear_error(self, c):
        return n.ExprStmt(tspan(c[0]), n.Call(tspan(c[0]), "err_clear", (), "ERR_CLEAR"))

    def throw_stmt(self, c):
        return n.Throw(tspan(c[0]), c[1])

    def assert_stmt(self, c):
        return n.Assert(tspan(c[0]), c[1], c[3] if len(c) > 3 else None)

    def dim_stmt(self, c):
        name = c[1]
        target = n.Name(tspan(name), norm(name.value), name.value)
        return n.Assign(tspan(c[0]), target, n.Literal(tspan(name), None))

    # ------------------------------------------------------------- block parts
    def if_head(self, c):
        return Line("if", tspan(c[0]), data={"cond": c[1]})

    def if_single(self, c):
        cond, then, other = c[1], c[3], c[5] if len(c) > 5 else None
        span = tspan(c[0])
        orelse = (other,) if other is not None else ()
        return n.If(span, (n.IfBranch(span, cond, (then,)),), orelse)

    def elseif_head(self, c):
        cond = [x for x in c if not isinstance(x, Token)][0]
        return Line("elseif", tspan(c[0]), data={"cond": cond})

    def else_if_single(self, c):
        inner = self.if_single(c[1:])
        return [Line("else", tspan(c[0])), Line("stmt", inner.span, inner)]

    def else_head(self, c):
        return Line("else", tspan(c[0]))

    def end_if(self, c):
        return Line("end_if", tspan(c[0]))

    def select_head(self, c):
        return Line("select", tspan(c[0]), data={"subject": c[2], "word": "SELECT"})

    def switch_head(self, c):
        return Line("select", tspan(c[0]), data={"subject": c[1], "word": "SWITCH"})

    def case_head(self, c):
        tests = [x for x in c if isinstance(x, n.CaseTest)]
        return Line("case", tspan(c[0]), data={"tests": tuple(tests)})

    def case_value(self, c):
        return n.CaseTest(c[0].span, "value", c[0])

    def case_range(self, c):
        return n.CaseTest(c[0].span, "range", c[0], c[2])

    def case_is(self, c):
        return n.CaseTest(tspan(c[0]), "is", c[2], op=_CMPOPS[c[1].type])

    def case_else(self, c):
        return Line("case_else", tspan(c[0]))

    def end_select(self, c):
        return Line("end_select", tspan(c[0]), data={"word": c[1].type if len(c) > 1 else "SELECT"})

    def for_each(self, c):
        name = next(x for x in c if isinstance(x, Token) and x.type == "NAME")
        exprs = [x for x in c if isinstance(x, n.Expr)]
        iterable = exprs[0]
        modifier = next((x for x in c if isinstance(x, Token) and x.type == "CONN"), None)
        if modifier is not None:  # FOR EACH m IN list LAST 10: the last (first) n items
            count = exprs[1]
            if modifier.value.upper() == "LAST":
                start = n.Unary(count.span, "-", count)
                iterable = n.Call(iterable.span, "slice", (iterable, start), "SLICE")
            else:
                iterable = n.Call(iterable.span, "take", (iterable, count), "TAKE")
        return Line("foreach", tspan(c[0]), data={"var": norm(name.value), "iterable": iterable})

    def for_range(self, c):
        step = c[7] if len(c) > 7 else None
        return Line("for", tspan(c[0]), data={"var": norm(c[1].value), "start": c[3],
                                              "end": c[5], "step": step})

    def next_line(self, c):
        var = norm(c[1].value) if c[1] is not None else None
        return Line("next", tspan(c[0]), data={"var": var})

    def end_for(self, c):
        return Line("end_for", tspan(c[0]))

    def loop_cond(self, c):
        return (c[0].type.lower(), c[1])

    def do_head(self, c):
        mode, cond = c[1] if c[1] else (None, None)
        return Line("do", tspan(c[0]), data={"mode": mode, "cond": cond})

    def loop_tail(self, c):
        mode, cond = c[1] if c[1] else (None, None)
        return Line("loop", tspan(c[0]), data={"mode": mode, "cond": cond})

    def while_head(self, c):
        return Line("while", tspan(c[0]), data={"cond": c[1]})

    def end_while(self, c):
        return Line("wend", tspan(c[0]))

    def with_head(self, c):
        return Line("with", tspan(c[0]), data={"name": norm(c[1].value)})

    def end_with(self, c):
        return Line("end_with", tspan(c[0]))

    def with_dot_field(self, c):
        return Line("with_field", tspan(c[0]), data={"key": c[1].value, "value": c[3]})

    def params(self, c):
        return tuple(x for x in c if isinstance(x, str) and not isinstance(x, Token))

    def param(self, c):
        return norm(c[0].value)

    def sub_head(self, c):
        return Line("sub", tspan(c[0]), data={"name": norm(c[1].value), "raw": c[1].value,
                                              "params": c[2] or (), "function": False})

    def function_head(self, c):
        data = self.sub_head(c).data
        data["function"] = True
        return Line("sub", tspan(c[0]), data=data)

    def end_sub(self, c):
        return Line("end_sub", tspan(c[0]), data={"function": False})

    def end_function(self, c):
        return Line("end_sub", tspan(c[0]), data={"function": True})

    def try_head(self, c):
        return Line("try", tspan(c[0]))

    def catch_head(self, c):
        var = norm(c[1].value) if c[1] is not None else None
        return Line("catch", tspan(c[0]), data={"var": var})

    def end_try(self, c):
        return Line("end_try", tspan(c[0]))

    def end_other(self, c):
        return Line("end_other", tspan(c[0]), data={"word": c[1].value.upper()})

    def label(self, c):
        return n.Label(tspan(c[0]), c[0].value.lower())

    def verbatim(self, c):
        return _verbatim(c[0])

    def table(self, c):
        raw: RawBlock = c[0].value
        return Line("table", tspan(c[0]), data={"raw": raw})

    def unsupported(self, c):
        raw: RawBlock = c[0].value
        m = re.match(r"[\w.$\[\]]+\s*=\s*(\w+)", raw.text)
        head = m.group(1) if m else (raw.text.split(None, 1)[0] if raw.text else "")
        head = head.upper()
        return n.Unsupported(tspan(c[0]), head, raw.text)


_BUILDER = _Builder()


def _as_lines(item) -> list[Line]:
    if isinstance(item, list):
        return item
    if isinstance(item, Line):
        return [item]
    return [Line("stmt", item.span, item)]


def _as_pairs(args, span) -> list:
    """``RETURN WITH k AS v, k2 AS v2`` -> [(k, v), ...]."""
    pairs, key = [], None
    for arg in args:
        if arg.sep == "AS":
            if key is None:
                _CTX[-1].sink.at(arg.span, "expected a name before AS")
                continue
            pairs.append((key, arg.expr))
            key = None
        elif isinstance(arg.expr, n.Name):
            key = arg.expr.raw
        else:
            _CTX[-1].sink.at(arg.span, "expected name AS value")
    return pairs


# ------------------------------------------------------------------ interpolation


def _parts(raw_parts, prose: bool = False) -> list:
    out = []
    for part in raw_parts:
        if not isinstance(part, StringPart):
            out.append(part)
        elif prose:
            out.append(_prose_fragment(part))
        else:
            out.append(_fragment(part))
    return out


def _prose_fragment(part: StringPart):
    """In a BEGIN TALK/PROMPT body a ``${...}`` that is not an expression stays text."""
    ctx = _CTX[-1]
    trial = DiagnosticSink(ctx.file)
    saved, ctx.sink = ctx.sink, trial
    try:
        expr = _fragment(part)
    finally:
        ctx.sink = saved
    if trial.has_errors:
        line, col = _linecol(ctx.text, part.start)
        ctx.sink.warning(line, col, "${...} is not an expression here; kept as text")
        return "${" + ctx.text[part.start:part.end] + "}"
    return expr


def _fragment(part: StringPart) -> n.Expr:
    """Parse the expression inside ``${...}`` (same text, same positions)."""
    ctx = _CTX[-1]
    tokens = Scanner(ctx.text, ctx.registry, ctx.sink, start=part.start, end=part.end,
                     mode="expr").scan()
    if not tokens:
        line, col = _linecol(ctx.text, part.start)
        ctx.sink.error(line, col, "empty ${} in string")
        return n.Literal(n.Span(ctx.file, line, col), "")
    try:
        return lark_parser().parse(tokens, start="expr")
    except UnexpectedInput as exc:
        _report(exc, ctx)
        return n.Literal(tspan(tokens[0]), "")


def _linecol(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _verbatim(tok: Token) -> n.Verbatim:
    block: VerbatimBlock = tok.value
    ctx = _CTX[-1]
    span = tspan(tok)
    text = n.Interpolated(span, tuple(_block_parts(block, ctx.text)))
    header = None
    hs, he = block.header
    if ctx.text[hs:he].strip():
        header = _fragment(StringPart(hs, he))
    return n.Verbatim(span, block.kind, text, header)


def _block_parts(block: VerbatimBlock, text: str) -> list:
    """Body of a verbatim block (§2.7): dedent, trim, keep interior blank lines, ${}."""
    lines = [(s, e) for s, e in block.lines]
    while lines and not text[lines[0][0]:lines[0][1]].strip():
        lines.pop(0)
    while lines and not text[lines[-1][0]:lines[-1][1]].strip():
        lines.pop()
    indent = min((_indent(text[s:e]) for s, e in lines if text[s:e].strip()), default=0)
    parts: list = []
    for i, (s, e) in enumerate(lines):
        if i:
            parts.append("\n")
        body = text[s:e].rstrip()
        if body.strip():
            parts.extend(_parts(interpolation_parts(text, s + indent, s + len(body)), prose=True))
    return _merge_strings(parts)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _merge_strings(parts: list) -> list:
    out: list = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        else:
            out.append(part)
    return out


# ------------------------------------------------------------------ entry points


def parse_lines(text: str, file: str, registry, sink: DiagnosticSink,
                lenient: bool = False) -> tuple[list[Line], bool]:
    """Scan and parse a whole file; returns the lines and the #workflow pragma flag.

    In ``lenient`` mode a line that does not parse becomes an unsupported statement with a
    warning (DIALECT A-58), so the rest of the script still compiles."""
    scanner = Scanner(text, registry, sink)
    tokens = scanner.scan()
    ctx = _Context(text, file, registry, sink)
    ctx.lenient = lenient
    _CTX.append(ctx)
    try:
        return _parse_tokens(tokens, sink), scanner.workflow
    finally:
        _CTX.pop()


def _parse_tokens(tokens: list[Token], sink: DiagnosticSink) -> list[Line]:
    try:
        return lark_parser().parse(tokens, start="start")
    except UnexpectedInput:
        return _parse_line_by_line(tokens, sink)


def _parse_line_by_line(tokens: list[Token], sink: DiagnosticSink) -> list[Line]:
    lines: list[Line] = []
    for chunk in _split_statements(tokens):
        try:
            lines.extend(lark_parser().parse(chunk, start="one_line"))
        except UnexpectedInput as exc:
            if sink.has_error_on(chunk[0].line, chunk[-1].line):
                lines.append(Line("error", tspan(chunk[0])))  # the scanner said why
            else:
                lines.append(_unparsable(chunk, exc, sink))
    return lines


def _split_statements(tokens: list[Token]):
    chunk: list[Token] = []
    for tok in tokens:
        chunk.append(tok)
        if tok.type == "NL":
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _unparsable(chunk: list[Token], exc: UnexpectedInput, sink: DiagnosticSink) -> Line:
    """An aspirational keyword whose arguments we cannot parse becomes Unsupported (§12.3);
    anything else is a syntax error."""
    ctx = _CTX[-1]
    first = chunk[0]
    raw = ctx.text[first.start_pos:chunk[-1].start_pos].strip()
    spec = ctx.registry.keywords.get(first.value) if first.type in ("KW", "KWP") else None
    if spec is not None and spec.status == "aspirational":
        return Line("stmt", tspan(first), n.Unsupported(tspan(first), first.value, raw))
    if getattr(ctx, "lenient", False):
        tok = getattr(exc, "token", None) or first
        ctx.sink.warning(tok.line or first.line, tok.column or first.column,
                         "this line does not parse; it is skipped (lenient mode)")
        return Line("stmt", tspan(first), n.Unsupported(tspan(first), str(first.value).upper(), raw))
    _report(exc, ctx)
    return Line("error", tspan(first))


def _report(exc: UnexpectedInput, ctx: _Context) -> None:
    tok = getattr(exc, "token", None)
    if isinstance(exc, UnexpectedEOF) or tok is None or tok.type in ("$END", "NL"):
        line, col = (tok.line, tok.column) if tok is not None and tok.line else (exc.line, exc.column)
        ctx.sink.error(line or 1, col or 1, "unexpected end of statement" + _expected(exc))
        return
    ctx.sink.error(tok.line, tok.column, f"unexpected {_describe(tok)}" + _expected(exc))


_NICE = {"NAME": "a name", "NUMBER": "a number", "STRING": "a string", "ISTRING": "a string",
         "NL": "end of line", "KW": "a keyword", "CONN": "a connector", "LPAR": "'('",
         "RPAR": "')'", "COMMA": "','", "EQ": "'='", "THEN": "THEN", "EXPR": "an expression",
         "RSQB": "']'", "RBRACE": "'}'", "LSQB": "'['", "COLON": "':'"}


def _describe(tok: Token) -> str:
    if tok.type in ("NAME", "KW", "KWP", "CONN", "TIGHT"):
        return f"'{tok.value}'"
    if tok.type in ("STRING", "ISTRING"):
        return "string"
    if tok.type == "NUMBER":
        return f"number {tok.value}"
    return f"'{tok.value}'" if isinstance(tok.value, str) and tok.value.strip() else tok.type


def _expected(exc) -> str:
    expected = getattr(exc, "expected", None) or getattr(exc, "accepts", None)
    if not expected:
        return ""
    names = sorted(e for e in expected if e.isupper() and not e.startswith("__"))
    if 0 < len(names) <= 4:
        return ", expected " + " or ".join(_NICE.get(e, e) for e in names)
    return ""
