"""Scanner: source text -> tokens for the Lark grammar.

The dialect has hundreds of multi-word keywords that real scripts also use as variable
names (``list``, ``filter``, ``format``, ``from`` ...). A keyword phrase is therefore only
recognised where a keyword can stand (§12.1 step 4): at a statement head that is not an
assignment, right after the assignment ``=``, after ``RETURN``, after ``THEN``/``ELSE``
of a single-line IF and after ``FOR EACH v IN``. Everywhere else a word is a name, except
the reserved words of §2.4. Connector words (``AS``, ``TO``, ``WITH``...) split a keyword's
arguments only when that keyword declares them and only at bracket depth 0.

The scanner also does what a line-based pre-pass would: comments (string-aware, §2.3),
logical lines (continuation rules of §2.6), verbatim ``BEGIN ... END`` blocks and
``TABLE ... END TABLE`` blocks (captured as one token each), and statements it does not know
(one ``UNSUPPORTED`` token carrying the raw text, §12.3).
"""
from __future__ import annotations

import functools
import re
from typing import Optional

from lark import Token

from .diagnostics import DiagnosticSink
from .lexicon import (ACCESS_AFTER, ARG_START, ASSIGN_AFTER, BARE_FLAGS, CLAUSE_LINE,
                      CLEAR_ERROR, CONTINUATION, EXPR_START_RESERVED, HEAD_WORDS, INFIX_WORDS,
                      JUXTAPOSED, KW_OPERAND_ARG, LABEL_RE, MEMBER_AFTER, NEEDS_OPERAND,
                      ERROR_MESSAGE, NEW_OBJECT, NOT_A_HEAD, NOT_TIGHT, NUMBER_RE, ON_ERROR, OPENERS, OPERAND_END,
                      OPERAND_KEYWORDS, OP_RE, OP_TYPE, RESERVED, SET_ASSIGN, SQL_CONTINUATION,
                      TABLE_OPEN, TEXT_REST_KEYWORDS, TIGHT_WORDS, VERBATIM_OPEN, WITH_OPTIONS,
                      WORD_RE, WS_RE)
from .literals import (RawBlock, StringPart, VerbatimBlock, matching_brace, matching_paren,
                       unescape, scan_string)


class Scanner:
    """Turns one source text into a list of Lark tokens (see the module docstring).

    ``start``/``end`` restrict scanning to a part of the text (interpolations);
    ``mode="expr"`` scans a lone expression (no statement heads).
    """

    def __init__(self, text: str, registry, sink: DiagnosticSink, *, start: int = 0,
                 end: Optional[int] = None, mode: str = "program"):
        self.text = text
        self.registry = registry
        self.sink = sink
        self.pos = start
        self.end = len(text) if end is None else end
        self.mode = mode
        self.tokens: list[Token] = []
        self.brackets: list[str] = []
        self._line_starts = _line_starts(text)
        self._line_hint = 0
        self._phrase_res: dict[str, re.Pattern] = {}
        self.workflow = False
        self._new_statement()

    # ------------------------------------------------------------------ state
    def _new_statement(self) -> None:
        self.at_head = self.mode == "program"
        self.stmt_first = len(self.tokens)
        self.stmt_pos = self.pos
        self.stmt_kind: Optional[str] = None  # "assign" | "for" | "sub"
        self.rhs_pending = False  # the next operand is a command position
        self.command = None  # KeywordSpec whose arguments are being scanned
        self.command_depth = 0
        self.as_anywhere = False
        self.operand_command = False  # the connectors belong to a keyword used as an operand
        self.tight_as: Optional[int] = None  # depth of a pending FORMAT ... AS
        self.swallow: Optional[int] = None  # start of an unsupported statement
        self.last_type: Optional[str] = None  # type of the statement's previous token

    @property
    def prev_type(self) -> Optional[str]:
        return self.last_type

    def _linecol(self, pos: int) -> tuple[int, int]:
        starts, line = self._line_starts, self._line_hint
        # Tokens come in order: the line of the previous one is almost always right.
        if not (starts[line] <= pos and (line + 1 == len(starts) or pos < starts[line + 1])):
            line = _bisect(starts, pos)
            self._line_hint = line
        return line + 1, pos - starts[line] + 1

    def _emit(self, type_: str, value, start: int, end: int) -> Token:
        line, col = self._linecol(start)
        end_line, end_col = self._linecol(end)
        tok = Token(type_, value, start, line, col, end_line, end_col, end)
        self.last_type = type_
        self.rhs_pending = False
        if self.swallow is None:
            self.tokens.append(tok)
        return tok

    def _error(self, pos: int, message: str) -> None:
        if self.swallow is not None:
            return  # an unsupported statement: its text is kept raw, not checked
        line, col = self._linecol(pos)
        self.sink.error(line, col, message)

    # ------------------------------------------------------------------ main loop
    def scan(self) -> list[Token]:
        text = self.text
        while self.pos < self.end:
            ch = text[self.pos]
            if ch in " \t\f\v\r":
                self.pos = WS_RE.match(text, self.pos).end()
            elif ch == "\n":
                self._newline()
            elif self.at_head and self._statement_head():
                continue
            elif ch == '"':
                self._string()
            elif ch == "'":
                self._quote()
            elif ch == "_" and self._is_line_continuation():
                continue
            elif ch in "0123456789" or (ch == "." and self._starts_number()):
                self._number()
            elif ch.isalpha() or ch == "_" or (not ch.isascii() and ch.isidentifier()):
                self._word()
            elif ch == "/" and text.startswith("//", self.pos) and self._comment_allowed():
                self._skip_to_eol()
            elif ch == ";":
                self.pos += 1
            else:
                self._operator()
        self._end_statement(self.end)
        return self.tokens

    def _newline(self) -> None:
        nxt = self.pos + 1
        if self.brackets or self.prev_type in CONTINUATION or self._continues_at(nxt) \
                or (self.prev_type == "CONN" and self.tokens and self.tokens[-1].value in
                    ("SET", "WHERE", "VALUES") and self._indented_continuation(nxt)):
            self.pos = nxt
            return
        self._end_statement(self.pos)
        self.pos = nxt
        self._new_statement()

    def _indented_continuation(self, pos: int) -> bool:
        """``UPDATE "t" SET`` / ``FIND "t" WHERE`` at the end of a line: the clause goes on
        on the next, more indented, line."""
        line_begin = self.text.rfind("\n", 0, self.stmt_pos) + 1
        own = _indent_of(self.text, line_begin)
        nxt = _indent_of(self.text, pos)
        return nxt > own and self.text[pos + nxt:pos + nxt + 1] not in ("\n", "")

    def _continues_at(self, pos: int) -> bool:
        """LLM option lines, a data keyword's clause lines (WHERE ...) and legacy SQL clauses
        continue the previous statement."""
        if self.command is not None and self.command.phrase == "LLM":
            return bool(WITH_OPTIONS.match(self.text, pos))
        if self.command is not None and not self.brackets:
            m = CLAUSE_LINE.match(self.text, pos)
            if m and " ".join(m.group(1).upper().split()) in self.command.connectors:
                return True
        return self.swallow is not None and bool(SQL_CONTINUATION.match(self.text, pos))

    def _end_statement(self, pos: int) -> None:
        if self.brackets:
            opener, where = self.brackets[-1]
            self._error(where, f"'{opener}' is never closed")
            self.brackets.clear()
        if self.swallow is not None:
            start, self.swallow = self.swallow, None
            raw = self.text[start:pos].strip()
            self._emit("UNSUPPORTED", RawBlock(start, pos, raw), start, pos)
        if self.mode == "program" and len(self.tokens) > self.stmt_first:
            self._emit("NL", "\n", pos, pos)

    # ------------------------------------------------------------------ statement heads
    def _statement_head(self) -> bool:
        """Handle what may only stand at the head of a statement. True if consumed."""
        self.at_head = False
        self.stmt_pos = self.pos
        text, pos = self.text, self.pos
        line_start = self._at_line_start(pos)
        ch = text[pos]
        if ch == "'" or (ch == "#" and not text.startswith("#{", pos)) or text.startswith("//", pos):
            self._hash_or_comment(pos)
            return True
        if line_start and self._block(pos):
            return True
        m = WORD_RE.match(text, pos)
        if not m:
            if ch == ".":  # ".key = expr" inside WITH
                self.stmt_kind = "assign"
            else:  # prose or foreign syntax: an unknown statement (§12.3)
                self.swallow = pos
            return False
        return self._head_word(m, line_start)

    def _head_word(self, m: re.Match, line_start: bool) -> bool:
        word, pos, end = m.group(), m.start(), m.end()
        up = word.upper().rstrip("$")
        if up == "REM":
            self._skip_to_eol()
            return True
        if ASSIGN_AFTER.match(self.text, end) and not self._keyword_with_list(up, end):
            self.stmt_kind = "assign"
            self._emit("NAME", word, pos, end)  # even a reserved word: `to = to_lang`
            self.pos = end
            return True
        if up in ("SET", "LET") and SET_ASSIGN.match(self.text, pos):
            self._emit("LET", word, pos, end)
            target = WORD_RE.search(self.text, end)
            self._emit("NAME", target.group(), target.start(), target.end())
            self.pos, self.stmt_kind = target.end(), "assign"
            return True
        if line_start and up not in RESERVED and (lm := LABEL_RE.match(self.text, pos)):
            self._emit("LABEL", lm.group(1), pos, lm.end())
            self.pos = lm.end()
            return True
        return self._head_keyword(word, up, pos, end)

    def _keyword_with_list(self, up: str, end: int) -> bool:
        """``TALK [1, 2]``: a keyword whose argument is an array literal, not ``x[i] = v``."""
        m = re.compile(r"[ \t]*\[").match(self.text, end)
        if not m or not self.registry.phrases_starting_with(up):
            return False
        close = matching_paren(self.text, m.end() - 1, self.end)
        return close is not None and not ASSIGN_AFTER.match(self.text, close + 1)

    def _head_keyword(self, word: str, up: str, pos: int, end: int) -> bool:
        if (m := ON_ERROR.match(self.text, pos)):
            self._emit("ONERROR", "ON ERROR", pos, m.end())
            self.pos = m.end()
            return True
        if (m := CLEAR_ERROR.match(self.text, pos)) and not ASSIGN_AFTER.match(self.text, m.end()):
            self._emit("CLEARERROR", "CLEAR ERROR", pos, m.end())
            self.pos = m.end()
            return True
        parts = up.split("_") if "_" in up else [up]
        if parts[0] in NOT_A_HEAD:
            self.swallow = pos  # `STEP 1: BOT ...` (aspirational orchestration)
            return False
        if parts[0] in ("IF", "FOR", "WHILE", "ELSE", "FUNCTION") and self._opens_brace_block(end):
            self.swallow = pos  # `if x == "" {` ... `}`: foreign (Rhai/JS) code
            return False
        if parts[0] in RESERVED or parts[0] in HEAD_WORDS:
            self._head_reserved(parts, word, pos, end)
            return True
        if self._try_command(pos, statement=True):
            return True
        if self.text[end:end + 1] == "(" or self.text[end:end + 2] == " (":
            self.stmt_kind = "assign"
            return False  # a procedure/function call statement
        self.swallow = pos  # an unknown statement (§12.3)
        return False

    def _head_reserved(self, parts: list[str], word: str, pos: int, end: int) -> None:
        """Emit a head word, splitting underscore spellings (END_IF, EXIT_FOR, FOR_EACH)."""
        if len(parts) > 1 and not all(p in RESERVED or p in HEAD_WORDS for p in parts):
            parts = [parts[0]] if parts[0] in RESERVED else parts
            if len(parts) == 1:  # e.g. FOR_something: not a head form; treat as a name
                self._emit("NAME", word, pos, end)
                self.pos = end
                self.stmt_kind = "assign"
                return
        for part in parts:
            self._emit(RESERVED.get(part) or part, part, pos, end)
        self.pos = end
        head = parts[0]
        if head in ("THEN", "ELSE"):
            self.at_head = True
        elif head == "FOR":
            self.stmt_kind = "for"
        elif head in ("SUB", "FUNCTION", "DIM"):
            self.as_anywhere = True
            self.command = _AS_ONLY
        elif head == "RETURN":
            self._after_return()

    def _opens_brace_block(self, end: int) -> bool:
        line = self.text[end:self._eol(end)]
        return line.rstrip().endswith("{") and not re.search(r"(?i)\bTHEN\b", line)

    def _after_return(self) -> None:
        m = re.compile(r"[ \t]+WITH\b", re.I).match(self.text, self.pos)
        if m:  # RETURN WITH k AS v, ...
            self._emit("WITH", "WITH", m.end() - 4, m.end())
            self.pos = m.end()
            self.command, self.command_depth = _AS_ONLY, 0
        else:
            self.rhs_pending = True

    def _block(self, pos: int) -> bool:
        """BEGIN TALK/SYSTEM PROMPT/MAIL and TABLE blocks, captured whole."""
        m = VERBATIM_OPEN.match(self.text, pos)
        if m:
            self._verbatim(m)
            return True
        if TABLE_OPEN.match(self.text, pos) and not ASSIGN_AFTER.match(self.text, pos + 5):
            self._table(pos)
            return True
        return False

    def _verbatim(self, m: re.Match) -> None:
        kind = " ".join(m.group(1).upper().split())
        closer = re.compile(r"(?i)[ \t]*END[ \t]+" + kind.replace(" ", r"[ \t]+") + r"[ \t]*$")
        lines, pos = [], self._next_line(m.end())
        while pos < self.end:
            eol = self._eol(pos)
            if closer.match(self.text[pos:eol]):
                block = VerbatimBlock(kind, (m.start(2), m.end(2)), tuple(lines))
                self._emit("VERBATIM", block, m.start(), eol)
                self.pos = eol
                return
            lines.append((pos, eol))
            pos = eol + 1
        self._error(m.start(), f"BEGIN {kind} without END {kind}")
        self.pos = self.end

    def _table(self, pos: int) -> None:
        closer = re.compile(r"(?i)[ \t]*END[ \t_]+TABLE[ \t]*$")
        line = pos
        while line < self.end:
            eol = self._eol(line)
            if closer.match(self.text[line:eol]):
                self._emit("TABLE", RawBlock(pos, eol, self.text[pos:eol]), pos, eol)
                self.pos = eol
                return
            line = eol + 1
        self._error(pos, "TABLE without END TABLE")
        self.pos = self.end

    # ------------------------------------------------------------------ keywords
    def _try_command(self, pos: int, statement: bool) -> bool:
        """Recognise a keyword phrase at a command position; emit KW or KWP."""
        found = self._match_phrase(pos)
        if not found:
            return False
        spec, end = found
        if statement and not spec.statement:
            return False
        if not statement and not (spec.value and self._plausible_value_keyword(spec, end)):
            return False
        paren = self.text[end:end + 1] == "("
        if paren and not statement and spec.value and not self._parenthesised_call(end):
            self._emit("KWCALL", spec.phrase, pos, end)  # GET BOT MEMORY("k") + 1: a primary
            self.pos = end
            return True
        kind = "KWP" if self._parenthesised_call(end) else "KW"
        self._emit(kind, spec.phrase, pos, end)
        self.pos = end
        self.command, self.command_depth = spec, len(self.brackets)
        if spec.phrase in TEXT_REST_KEYWORDS and statement:
            self._rest_as_text(end)
        return True

    def _rest_as_text(self, end: int) -> None:
        """``DESCRIPTION It is a WebService`` / ``SET SCHEDULE every 1 hour`` (Compat):
        unquoted text to the end of the line is the argument."""
        m = re.compile(r"[ \t]+([^\s\"'(][^\n]*)").match(self.text, end)
        if m and " " in m.group(1).strip() and '"' not in m.group(1) \
                and not re.match(r"[\w.]+\s*[(\[.=+,]", m.group(1)):
            text = m.group(1).rstrip()
            self._emit("STRING", text, m.start(1), m.start(1) + len(text))
            self.pos = m.start(1) + len(text)

    def _match_phrase(self, pos: int):
        m = WORD_RE.match(self.text, pos)
        if not m:
            return None
        first = m.group().upper().split("_")[0].rstrip("$")
        for words in self.registry.phrases_starting_with(first):
            phrase = " ".join(words)
            pm = self._phrase_re(phrase).match(self.text, pos)
            if pm and not (len(words) > 1 and MEMBER_AFTER.match(self.text, pm.end())):
                return self.registry.keywords[phrase], pm.end()
        return None

    def _phrase_re(self, phrase: str) -> re.Pattern:
        pattern = self._phrase_res.get(phrase)
        if pattern is None:
            body = r"(?:[ \t]+|_)".join(re.escape(w) for w in phrase.split(" "))
            pattern = re.compile(r"(?i)" + body + r"\$?(?![\w$])")
            self._phrase_res[phrase] = pattern
        return pattern

    def _plausible_value_keyword(self, spec, end: int) -> bool:
        """After ``=``: ``x = list`` reads a variable; ``x = HEAR`` and ``x = FIND "t"`` call."""
        if ACCESS_AFTER.match(self.text, end):
            return False
        if ARG_START.match(self.text, end):
            return True
        return spec.matches("")

    def _parenthesised_call(self, end: int) -> bool:
        """``USE_WEBSITE("u", "30d")``: the parentheses hold the whole argument list."""
        m = re.compile(r"[ \t]*\(").match(self.text, end)
        if not m:
            return False
        close = matching_paren(self.text, m.end() - 1, self.end)
        if close is None:
            return False
        rest = self.text[close + 1:self._eol(close + 1)].strip()
        return rest == "" or rest.startswith("'") or rest.startswith("//")

    # ------------------------------------------------------------------ words
    def _word(self) -> None:
        m = WORD_RE.match(self.text, self.pos)
        if m is None:  # a letter-like character that cannot start a name
            self._error(self.pos, f"unexpected character {self.text[self.pos]!r}")
            self.pos += 1
            return
        word, start, end = m.group(), m.start(), m.end()
        self._juxtaposed_list(start, word)
        if self.rhs_pending:
            self.rhs_pending = False
            if self._rhs_word(word, start):
                return
        self.pos = end
        kind = self._classify(word, end)
        if kind is None:  # a multi-token construct already emitted
            return
        self._emit(kind, word if kind in ("NAME", "CONN", "TIGHT") else word.upper(), start, end)
        self._after_word(kind, word)

    def _rhs_word(self, word: str, start: int) -> bool:
        """The first word after ``x =`` / RETURN / FOR EACH ... IN."""
        up = word.upper()
        if up == "SELECT" and not re.compile(r"(?i)SELECT[ \t]+CASE\b").match(self.text, start):
            del self.tokens[self.stmt_first:]  # legacy in-memory SQL: unsupported statement
            self.swallow = self.stmt_pos
            return False
        if up in RESERVED or NEW_OBJECT.match(self.text, start):
            return False
        end = start + len(word)
        if self.text[end:end + 1] == "(" and not self._parenthesised_call(end):
            return False  # FORMAT(x, p) + "...": a function call inside an expression
        if self._try_command(start, statement=False):
            return True
        found = self._match_phrase(start)
        if found and not found[0].value and ARG_START.match(self.text, found[1]):
            self._error(start, f"{found[0].phrase} does not produce a value")
        if JUXTAPOSED.match(self.text, end) and not self.registry.function_spec(word) \
                and self.stmt_kind != "for":
            del self.tokens[self.stmt_first:]  # `x = QUERY "..."`: an unknown keyword
            self.swallow = self.stmt_pos
        return False

    def _classify(self, word: str, end: int) -> Optional[str]:
        up = word.upper().rstrip("$")
        prev = self.prev_type
        if prev in ("DOT", "QDOT") or self._is_object_key(end):
            return "NAME"
        conn = self._connector(up, end)
        if conn:
            return None if conn is _EMITTED else conn
        if prev == "END" and up in HEAD_WORDS:
            return up  # END TRY
        if up in INFIX_WORDS and prev in OPERAND_END:
            return up
        if up in ("LAST", "FIRST") and self.stmt_kind == "for" and prev in OPERAND_END \
                and not self.brackets and self._eq_seen() is False and self._after_in():
            return "CONN"  # FOR EACH m IN list LAST 10 DO
        if up in RESERVED:
            return self._reserved(up, end)
        if prev not in OPERAND_END:
            return self._operand_word(word, up, end)
        infix = self._infix_phrase(up, end)
        return None if infix is _EMITTED else (infix or "NAME")

    def _reserved(self, up: str, end: int) -> str:
        if up == "CALL" and self.brackets:
            return "CALLOP"  # a script/API call used inside a literal or an argument list
        if up in ("TO", "STEP", "DEFAULT") and re.compile(r"[ \t]*[,)\]}]").match(self.text, end):
            return "NAME"  # `SEND MAIL to, ...`: a variable that shares a reserved word
        if self.prev_type in NEEDS_OPERAND and up not in EXPR_START_RESERVED and not (
                self.prev_type == "NOT" and up in ("IN", "LIKE")):
            return "NAME"  # `IF case <> NULL`, `PARAM to AS EMAIL`: an operand, so a name
        return RESERVED[up]

    def _infix_phrase(self, up: str, end: int) -> Optional[str]:
        """``x STARTS WITH y`` / ``x ENDS WITH y`` (attendance-crm)."""
        if up in ("STARTS", "ENDS"):
            m = re.compile(r"(?i)[ \t]+WITH\b").match(self.text, end)
            if m:
                self._emit("STARTSWITH" if up == "STARTS" else "ENDSWITH", up, end - len(up), m.end())
                self.pos = m.end()
                return _EMITTED
        return None

    def _after_word(self, kind: str, word: str) -> None:
        if kind in ("THEN", "ELSE") and not self.brackets:
            self.at_head = True
            self.command = None
        elif kind == "IN" and self.stmt_kind == "for" and not self.brackets:
            self.rhs_pending = True
        elif kind == "RETURN":
            self._after_return()
        elif kind == "TIGHT" and word.upper() == "FORMAT":
            self.tight_as = len(self.brackets)

    def _connector(self, up: str, end: int) -> Optional[str]:
        if self.tight_as is not None and up == "AS" and len(self.brackets) == self.tight_as:
            self.tight_as = None
            return "CONN"
        spec = self.command
        if spec is None or (not self.as_anywhere and len(self.brackets) != self.command_depth):
            return None
        if self.prev_type == "COMMA" and not KW_OPERAND_ARG.match(self.text, end):
            return None  # `SEND EMAIL to, subject, body`: a name ends the list
        if self.prev_type not in OPERAND_END | {"KW", "CONN", "KCONN", "TIGHT", "COMMA"} \
                and self.prev_type is not None:
            return None
        if self.prev_type in ("KW", "KWP") and not _may_lead(spec, up):
            return None  # `PARAM description AS STRING`: a name, not the connector
        if self._two_word_connector(up, end, spec):
            return _EMITTED
        if up not in spec.connectors:
            return None
        if self.operand_command:
            return "KCONN"
        if re.compile(r"(?:[ \t]*(?:[,)\]}]|=(?!=))|[.\[])").match(self.text, end) and not (
                up in BARE_FLAGS and re.compile(r"[ \t]*,").match(self.text, end)):
            return None
        if self.prev_type in ("KW", None) and self._line_rest_blank(end):
            return None
        return "CONN"

    def _two_word_connector(self, up: str, end: int, spec) -> bool:
        """Multi-word connectors (ORDER BY, AS MENU, WITH MAX_COST): longest first."""
        m = _NEXT_WORDS.match(self.text, end)
        if not m or not spec.connectors:
            return False
        words = [up] + [w.upper() for w in m.group().split()]
        for count in (3, 2):
            if len(words) < count:
                continue
            phrase = " ".join(" ".join(words[:count]).replace("_", " ").split())
            if phrase in spec.connectors:
                stop = _word_end(self.text, end, count - 1)
                self._emit("KCONN" if self.operand_command else "CONN", phrase, end - len(up), stop)
                self.pos = stop
                return True
        return False

    def _operand_word(self, word: str, up: str, end: int) -> Optional[str]:
        """A word where an operand starts: NEW OBJECT, PHRASE(...), FORMAT x AS p."""
        start = end - len(word)
        m = ERROR_MESSAGE.match(self.text, start)
        if m:  # ERROR MESSAGE (§6.4): the recorded error's text
            self._emit("NAME", "GET_ERROR_MESSAGE", start, m.end())
            self._emit("LPAR", "(", m.end(), m.end())
            self._emit("RPAR", ")", m.end(), m.end())
            self.pos = m.end()
            return None
        m = NEW_OBJECT.match(self.text, start)
        if m:
            kind = "NEWOBJ" if m.group(2).upper() == "OBJECT" else "NEWARR"
            self._emit(kind, m.group().upper(), start, m.end())
            self.pos = m.end()
            return None
        found = self._match_phrase(start)
        self._phrase_start = start
        if found and " " in found[0].phrase and re.compile(r"[ \t]*\(").match(self.text, found[1]):
            spec, pend = found
            if pend > end and spec.value:  # a multi-word phrase with spaces: GET BOT MEMORY("k")
                self._emit("KWCALL", spec.phrase, start, pend)
                self.pos = pend
                return None
        if up in TIGHT_WORDS and self._tight_form(end):
            return "TIGHT"
        if found and found[0].value and self._keyword_operand(found[0], found[1]):
            return None
        if up not in RESERVED and re.compile(r"[ \t]+\"").match(self.text, end) \
                and self.prev_type in ("COLON", "LPAR", "LSQB"):
            return "UNKOP"  # `"data": QUERY "SELECT ..."`: an unknown keyword (§10.9)
        return "NAME"

    def _tight_form(self, end: int) -> bool:
        """``FORMAT x AS p`` / ``FORMAT (a - b) AS p`` / ``FIRST x`` inside an expression."""
        m = re.compile(r"[ \t]+\(").match(self.text, end)
        if m:
            close = matching_paren(self.text, m.end() - 1, self.end)
            return close is not None and bool(re.compile(r"(?i)[ \t]+AS\b").match(self.text, close + 1))
        return bool(ARG_START.match(self.text, end)) and not NOT_TIGHT.match(self.text, end)

    def _keyword_operand(self, spec, end: int) -> bool:
        """``GET "session.x"`` / ``GET SESSION "id"`` used as an operand: one argument, or
        all comma-separated arguments at statement level outside any keyword call."""
        words = spec.phrase.split(" ")
        written = self.text[self._phrase_start:end]
        if (len(words) == 1 and words[0] not in OPERAND_KEYWORDS) or "_" in written:
            return False
        if not KW_OPERAND_ARG.match(self.text, end):
            return False
        # Nested without parentheses, a keyword takes every argument it can (§4.9 rule 4),
        # except inside brackets, where commas belong to the enclosing list.
        greedy = not self.operand_command and \
            len(self.brackets) == (self.command_depth if self.command else 0)
        self._emit("KWOPG" if greedy else "KWOP", spec.phrase, self._phrase_start, end)
        self.pos = end
        if self.command is None:  # its connectors (FIND "t" WHERE ...) now split arguments
            self.command, self.command_depth = spec, len(self.brackets)
            self.operand_command = True
        return True

    def _is_object_key(self, end: int) -> bool:
        if not self.brackets or self.brackets[-1][0] not in ("{", "#{"):
            return False
        return bool(re.compile(r"[ \t]*:").match(self.text, end)) and self.prev_type in (
            "LBRACE", "HASHBRACE", "COMMA")

    # ------------------------------------------------------------------ literals
    def _number(self) -> None:
        m = NUMBER_RE.match(self.text, self.pos)
        text = m.group()
        value = float(text) if any(c in text for c in ".eE") else int(text)
        self._emit("NUMBER", value, m.start(), m.end())
        self.pos = m.end()

    def _starts_number(self) -> bool:
        nxt = self.text[self.pos + 1:self.pos + 2]
        return nxt != "" and nxt in "0123456789" and self.prev_type not in OPERAND_END

    def _juxtaposed_list(self, start: int, word: str = "") -> None:
        """``SET SCHEDULE "cron" "job.bas"`` / ``"x" DATEADD(...)``: values written side by side
        in a keyword's arguments are read as a comma-separated list."""
        if self.prev_type in ("STRING", "ISTRING") and self.command is not None \
                and len(self.brackets) == self.command_depth and word.upper() not in RESERVED \
                and word.upper() not in INFIX_WORDS and word.upper() not in ("STARTS", "ENDS") \
                and not any(c.split(" ")[0] == word.upper() for c in self.command.connectors):
            self._emit("COMMA", ",", start, start)

    def _string(self) -> None:
        start = self.pos
        self._juxtaposed_list(start)
        result = scan_string(self.text, start, self.end)
        if result is None:
            self._error(start, "unterminated string")
            self.pos = self.end
            return
        value, parts, end, problem = result
        if problem:
            self._error(problem[0], problem[1])
        kind = "ISTRING" if parts else "STRING"
        self._emit(kind, parts if parts else value, start, end)
        self.pos = end

    def _quote(self) -> None:
        """``'`` starts a comment, except a short single-quoted string in an operand spot."""
        start = self.pos
        eol = self._eol(start)
        close = self.text.find("'", start + 1, eol)
        nxt = self.text[start + 1:start + 2]
        if self.prev_type in OPERAND_END or self.prev_type is None or close < 0 or nxt in (" ", "\t", ""):
            self._skip_to_eol()
            return
        self._emit("STRING", unescape(self.text[start + 1:close]), start, close + 1)
        self.pos = close + 1

    def _operator(self) -> None:
        if self._special_operand():
            return
        m = OP_RE.match(self.text, self.pos)
        if not m:
            self._error(self.pos, f"unexpected character {self.text[self.pos]!r}")
            self.pos += 1
            return
        op, start, end = m.group(), m.start(), m.end()
        if op in OPENERS:
            self.brackets.append((op, start))
        elif op in (")", "]", "}"):
            self._close_bracket(op, start)
        type_ = OP_TYPE[op]
        if type_ == "COMMA" and self._call_operand_comma(end):
            type_ = "CALLCOMMA"
        first_eq = type_ == "EQ" and self.stmt_kind == "assign" and not self.brackets \
            and not self._eq_seen()
        self._emit(type_, op, start, end)
        self.pos = end
        self.rhs_pending = first_eq

    def _special_operand(self) -> bool:
        """Two Compat spellings that are not operators: ``HEAR x AS "done", *`` (a wildcard
        menu option) and ``"prompt" ${expr}`` (an interpolation outside quotes)."""
        text, pos = self.text, self.pos
        if text[pos] == "*" and self.prev_type == "COMMA" and self.command is not None and \
                re.compile(r"\*[ \t]*(?:$|\n|,|')").match(text, pos):
            self._emit("STRING", "*", pos, pos + 1)
            self.pos = pos + 1
            return True
        if text.startswith("${", pos) and self.prev_type in OPERAND_END:
            close = matching_brace(text, pos + 1, self.end)
            if close is not None:
                self._emit("PLUS", "+", pos, pos)
                self._emit("ISTRING", (StringPart(pos + 2, close),), pos, close + 1)
                self.pos = close + 1
                return True
        return False

    def _after_in(self) -> bool:
        return any(t.type == "IN" for t in self.tokens[self.stmt_first:])

    def _call_operand_comma(self, end: int) -> bool:
        """``"k": CALL "/api/x", {...}`` inside a literal: the comma introduces the call's
        argument object, not the next pair."""
        toks = self.tokens
        return len(toks) >= 2 and toks[-2].type == "CALLOP" and toks[-1].type in ("STRING", "ISTRING") \
            and len(self.brackets) > self.command_depth \
            and bool(re.compile(r"[ \t\n]*[\[{#]").match(self.text, end))

    def _eq_seen(self) -> bool:
        return any(t.type == "EQ" for t in self.tokens[self.stmt_first:])

    def _close_bracket(self, op: str, pos: int) -> None:
        if not self.brackets:
            self._error(pos, f"unmatched '{op}'")
            return
        opener = self.brackets.pop()[0]
        if OPENERS[opener] != op:
            self._error(pos, f"'{opener}' closed by '{op}'")

    # ------------------------------------------------------------------ comments and lines
    def _hash_or_comment(self, pos: int) -> None:
        if self.text[pos] == "#" and re.compile(r"(?i)#workflow\b").match(self.text, pos):
            self.workflow = True
        self._skip_to_eol()

    def _comment_allowed(self) -> bool:
        return self.pos == 0 or self.text[self.pos - 1] in " \t\n"

    def _skip_to_eol(self) -> None:
        self.pos = self._eol(self.pos)

    def _is_line_continuation(self) -> bool:
        """`` _`` at the end of a physical line joins the next one (§2.6 rule 1)."""
        if self.pos == 0 or self.text[self.pos - 1] not in " \t":
            return False
        rest = self.text[self.pos + 1:self._eol(self.pos)]
        if rest.strip():
            return False
        self.pos = min(self._eol(self.pos) + 1, self.end)
        return True

    def _eol(self, pos: int) -> int:
        eol = self.text.find("\n", pos, self.end)
        return self.end if eol < 0 else eol

    def _next_line(self, pos: int) -> int:
        return self._eol(pos) + 1

    def _at_line_start(self, pos: int) -> bool:
        line_begin = self.text.rfind("\n", 0, pos) + 1
        return not self.text[line_begin:pos].strip()

    def _line_rest_blank(self, pos: int) -> bool:
        rest = self.text[pos:self._eol(pos)].strip()
        return rest == "" or rest.startswith("'")


class _AsOnly:
    """Pseudo keyword spec for statements whose only connector is AS (SUB params, DIM,
    RETURN WITH)."""

    phrase = "AS"
    connectors = frozenset({"AS"})

    @staticmethod
    def matches(shape: str) -> bool:
        return True


_AS_ONLY = _AsOnly()
_NEXT_WORDS = re.compile(r"(?:[ \t]+\w+){1,2}")


@functools.lru_cache(maxsize=4096)
def _leading(spec) -> frozenset:
    """Connectors that may come right after the keyword (``INSERT INTO``, ``x = HEAR AS t``),
    found by trying the spec's shapes on short argument patterns."""
    conns = sorted(spec.connectors)
    found = set()
    for c in conns:
        samples = [c, f"{c} x", f"{c} x,x", f"{c} x,x,x"]
        samples += [f"{c} x {d} x" for d in conns] + [f"{c} {d} x" for d in conns]
        samples += [f"{c} x {d} x {e} x" for d in conns for e in conns]
        if any(spec.matches(sample) for sample in samples):
            found.add(c.split(" ")[0])
    return frozenset(found)


def _may_lead(spec, word: str) -> bool:
    try:
        return word in _leading(spec)
    except TypeError:  # unhashable pseudo spec
        return True


def _indent_of(text: str, pos: int) -> int:
    end = pos
    while end < len(text) and text[end] in " \t":
        end += 1
    return end - pos


def _word_end(text: str, pos: int, count: int) -> int:
    """Position after the next ``count`` words from ``pos``."""
    for _ in range(count):
        pos = re.compile(r"[ \t]+\w+").match(text, pos).end()
    return pos
_EMITTED = "<emitted>"


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


def _bisect(starts: list[int], pos: int) -> int:
    lo, hi = 0, len(starts)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= pos:
            lo = mid
        else:
            hi = mid
    return lo
