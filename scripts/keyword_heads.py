#!/usr/bin/env python3
"""Find statement heads of a corpus that the keyword catalog does not cover.

Usage::

    .venv/bin/python scripts/keyword_heads.py [CORPUS_DIR] [--show PHRASE] [--examples N]

``CORPUS_DIR`` defaults to ``$BOTBASIC_CORPUS`` or ``/work/shared/corpus``. Every ``.bas``
file below it (and the extension-less ``default.gbdialog`` BASIC files) is scanned with a
deliberately crude cleaner: comments dropped, string contents blanked to ``""``, verbatim
blocks (``BEGIN TALK`` ...) and ``TABLE`` field lines skipped, continuation lines joined.
Each statement (also the one after ``THEN``/``ELSE`` of a single-line IF) is classified:

* assignment (``x = ...``, ``a.b = ...``, ``SET x = ...``) — the keyword after ``=`` is checked;
* a declared keyword phrase (longest first, underscore spellings too) — its arguments are
  split the way the parser splits them (commas and this keyword's connectors at bracket
  depth 0) and the resulting shape string is checked against the keyword's shapes;
* a grammar statement (IF, FOR, END ..., CALL, labels, procedure calls ...);
* otherwise *uncovered*.

The report has one section per finding, each with counts and example locations (``file:line``):
uncovered heads; shape mismatches; arguments that no expression grammar can read (two
operands side by side, e.g. ``SET SCHEDULE "0 9 * * *" "job.bas"``); keywords written
without parentheses inside expressions (what the parser's §4.9 rules must handle); lone
keyword words in a value position read as variables (``FOR EACH item IN list``); and
statements that only fit a shape when a connector word is read against the default
rules (``ORDER BY a DESC, b``). ``--show PHRASE`` prints every use of one keyword with its
shape. This is a measuring tool for the catalog, not a parser: it errs on the side of
reporting.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Iterable, Iterator, Optional

from botbasic.keywords.catalog import declare_all
from botbasic.keywords.registry import KeywordSpec, Registry, normalize_phrase

DEFAULT_CORPUS = "/work/shared/corpus"

# Statement heads the parser handles itself (DIALECT §5, §6, §2.7, §9.6.12). Matched on the
# first word, or on the first two words for the entries written with a space.
GRAMMAR_HEADS = {
    "IF", "ELSE", "ELSEIF", "END", "SELECT CASE", "CASE", "SWITCH", "DEFAULT", "FOR", "NEXT",
    "DO", "LOOP", "WHILE", "WEND", "EXIT", "BREAK", "CONTINUE", "RETURN", "WITH", "SUB",
    "FUNCTION", "CALL", "GOTO", "GOSUB", "ON ERROR", "THROW", "ASSERT", "TRY", "CATCH",
    "LET", "DIM", "BEGIN", "TABLE", "CREATE INDEX", "FIELD",
}
VERBATIM_OPENER = re.compile(r"^\s*BEGIN\s+(TALK|SYSTEM\s+PROMPT|MAIL)\b", re.I)
VERBATIM_CLOSER = re.compile(r"^\s*END\s+(TALK|SYSTEM\s+PROMPT|MAIL)\s*$", re.I)
TABLE_OPENER = re.compile(r"^\s*TABLE\s+\w", re.I)
TABLE_CLOSER = re.compile(r"^\s*END\s+TABLE\s*$", re.I)
PROCEDURE = re.compile(r"^\s*(?:SUB|FUNCTION)\s+(\w+)", re.I)
LABEL = re.compile(r"^\w+:$")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\$?")
# ``x =``, ``x.y =``, ``x[i] =`` — optionally after SET/LET; ``.key =`` inside WITH blocks;
# ``==`` is a comparison.
ASSIGNMENT = re.compile(
    r"^(?:(?:SET|LET)\s+)?(?:\.\s*)?[A-Za-z_]\w*\$?(?:\s*\.\s*\w+|\s*\[[^\]]*\])*\s*=(?!=)",
    re.I)
# JavaScript-style method call statements (``list.push(x)``, Compat §4.7).
METHOD_CALL = re.compile(r"^[A-Za-z_][\w.\[\]]*\.\w+\s*\(")
# A line continues on the next one after a comma, a binary operator, `` _`` (§2.6) or a
# clause word that cannot end a statement (``UPDATE "t" SET`` / ``FIND "t" WHERE``).
CONTINUATION_TAIL = re.compile(r"(,|\s_|[+\-*/&]|\bAND|\bOR|\bSET|\bWHERE)\s*$", re.I)
# Compat: option lines of an LLM call written on the following lines (DIALECT §9.3.4).
LLM_OPTION_LINE = re.compile(r"^WITH\s+(OPTIMIZE|MAX_COST|MAX_LATENCY)\b", re.I)
# Lines that continue the statement above: WHERE / ORDER BY / HAVING can never start a
# statement (UPDATE ... SET on several lines, crm/account-management); JOIN and GROUP BY
# continue a legacy ``x = SELECT`` only (bi/bi-user, §12.4), elsewhere they are keywords.
CLAUSE_LINE = re.compile(r"^(WHERE|ORDER\s+BY|HAVING)\b", re.I)
SQL_CLAUSE_LINE = re.compile(r"^(JOIN|GROUP\s+BY)\b", re.I)
# After these characters a connector word is an ordinary name (DIALECT §12.1 rules).
NAME_FOLLOWERS = ",)=.["
# An expression that ends like this needs an operand: a connector word there is a name.
OPERATOR_TAIL = re.compile(r"([-+*/&=<>^\\(]|\b(AND|OR|NOT|MOD|IS|LIKE|CONTAINS|IN))\s*$", re.I)


@dataclass
class Statement:
    """One cleaned statement and where it starts."""

    file: str
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


# ------------------------------------------------------------------ cleaning


def corpus_files(root: Path) -> list[Path]:
    """Every BASIC file under ``root``: ``*.bas`` plus extension-less ``default.gbdialog``."""
    found = [p for p in root.rglob("*") if p.is_file()
             and (p.suffix.lower() == ".bas" or p.name == "default.gbdialog")]
    return sorted(found)


def skip_blocks(lines: list[str]) -> Iterator[tuple[int, str]]:
    """Physical lines without verbatim-block bodies and TABLE field lines (1-based numbers).

    The opener stays (it is a grammar head); bodies are text, not statements.
    """
    closer = None
    for number, line in enumerate(lines, 1):
        if closer is not None:
            if closer.match(line):
                closer = None
                yield number, line
            continue
        if VERBATIM_OPENER.match(line):
            closer = VERBATIM_CLOSER
        elif TABLE_OPENER.match(line):
            closer = TABLE_CLOSER
        yield number, line


def is_comment_line(stripped: str) -> bool:
    """``'`` / ``REM`` / ``//`` / ``#`` comment lines (DIALECT §2.3)."""
    upper = stripped.upper()
    return (stripped.startswith("'") or stripped.startswith("//")
            or (stripped.startswith("#") and not stripped.startswith("#{"))
            or upper == "REM" or upper.startswith("REM ") or upper.startswith("REM\t"))


def scan_line(line: str, in_string: bool, depth: int) -> tuple[str, bool, int]:
    """Blank string contents and drop a trailing comment of one physical line.

    Returns the cleaned text, whether a double-quoted string is still open at the end of
    the line (strings may span lines) and the bracket depth.
    """
    out: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
                out.append('"')
        elif ch == '"':
            in_string = True
            out.append('"')
        elif ch == "'":
            single = re.match(r"'[^'\s][^']*'", line[i:])
            if not single:
                break  # a comment
            out.append("''")
            i += single.end() - 1
        elif ch == "/" and line[i:i + 2] == "//" and (i == 0 or line[i - 1].isspace()):
            break
        else:
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(0, depth - 1)
            out.append(ch)
        i += 1
    return "".join(out), in_string, depth


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Cleaned logical lines with the number of their first physical line."""
    result: list[tuple[int, str]] = []
    parts: list[str] = []
    start = 0
    in_string, depth = False, 0
    for number, line in skip_blocks(text.splitlines()):
        if not parts and is_comment_line(line.strip()):
            continue
        if not parts:
            start = number
        cleaned, in_string, depth = scan_line(line, in_string, depth)
        parts.append(cleaned.strip())
        if in_string or depth > 0 or CONTINUATION_TAIL.search(cleaned):
            continue
        joined = " ".join(p for p in parts if p).strip()
        parts = []
        if joined:
            result.append((start, joined))
    if parts:
        result.append((start, " ".join(parts).strip()))
    return join_compat_continuations(result)


def join_compat_continuations(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Append LLM option lines and legacy SQL clause lines to the statement they continue."""
    joined: list[tuple[int, str]] = []
    for number, text in lines:
        if joined and continues_previous(joined[-1][1], text):
            joined[-1] = (joined[-1][0], joined[-1][1] + " " + text)
        else:
            joined.append((number, text))
    return joined


def continues_previous(previous: str, text: str) -> bool:
    """Whether logical line ``text`` belongs to the statement ``previous``."""
    if LLM_OPTION_LINE.match(text):
        return re.search(r"\bLLM\b", previous, re.I) is not None
    if CLAUSE_LINE.match(text):
        return True
    if SQL_CLAUSE_LINE.match(text):
        return re.search(r"=\s*SELECT\b", previous, re.I) is not None
    return False


# ------------------------------------------------------------------ statements


def top_level_word(text: str, word: str, start: int = 0) -> int:
    """Index of ``word`` (whole word, any case) outside brackets, or -1."""
    depth = 0
    pattern = re.compile(rf"\b{word}\b", re.I)
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and pattern.match(text, i) and (i == 0 or not text[i - 1].isalnum()
                                                         and text[i - 1] not in "._"):
            return i
    return -1


def split_single_line_if(text: str) -> list[str]:
    """``IF c THEN s [ELSE s2]`` -> the IF part plus ``s`` and ``s2`` as statements."""
    if not re.match(r"^(ELSE\s*)?IF\b", text, re.I):
        return [text]
    then = top_level_word(text, "THEN")
    if then < 0:
        return [text]
    tail = text[then + 4:].strip()
    if not tail:
        return [text]
    statements = [text[:then + 4]]
    other = top_level_word(tail, "ELSE")
    if other >= 0:
        statements += [tail[:other].strip(), tail[other + 4:].strip()]
    else:
        statements.append(tail)
    return [s for s in statements if s]


def statements_of(path: Path, root: Path) -> tuple[list[Statement], set[str]]:
    """The statements of one file and the names of its SUB/FUNCTION procedures."""
    name = str(path.relative_to(root))
    text = path.read_text(encoding="utf-8", errors="replace")
    statements: list[Statement] = []
    procedures: set[str] = set()
    for number, line in logical_lines(text):
        match = PROCEDURE.match(line)
        if match:
            procedures.add(match.group(1).upper())
        statements += [Statement(name, number, s) for s in split_single_line_if(line)]
    return statements, procedures


# ------------------------------------------------------------------ keywords and shapes


class PhraseMatcher:
    """Finds the declared keyword phrase at the start of a text, longest first."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def match(self, text: str) -> Optional[tuple[KeywordSpec, str, str]]:
        """(spec, written phrase, rest of the text) or None.

        Underscore spellings count as several words (``SET_BOT_MEMORY``). A phrase whose
        last word is directly followed by ``.``, ``[`` or ``,`` is not that phrase: the word
        is a variable (``SCRAPE links[i], sel`` is SCRAPE, not SCRAPE LINKS).
        """
        words: list[tuple[str, int]] = []
        for m in re.finditer(r"\s*([A-Za-z_][A-Za-z0-9_]*)", text):
            if m.start() != (words[-1][1] if words else 0):
                break
            words.append((m.group(1), m.end()))
            if len(words) == 6:
                break
        for count in range(len(words), 0, -1):
            end = words[count - 1][1]
            if text[end:end + 1] in (".", "[", ","):
                continue
            written = " ".join(w for w, _ in words[:count])
            spec = self.registry.keyword_spec(normalize_phrase(written))
            if spec is not None:
                return spec, written, text[end:]
        return None


@dataclass
class Candidate:
    """A connector word in an argument text, which may also be read as a name."""

    connector: str
    raw: str
    default: bool  # read as a connector unless the search flips it


@dataclass
class Reading:
    """One way of splitting an argument text."""

    shape: str
    juxtaposed: list[str]
    flips: int  # how many connector words were read against the default rules


class ArgumentSplitter:
    """Splits a keyword's argument text into the shape string the parser would build.

    Commas and the keyword's connectors separate arguments at bracket depth 0. By default
    a connector word is an ordinary name when it is directly followed by ``,`` ``)`` ``=``
    ``.`` ``[`` or when an operand must come next (right after an operator). Those defaults
    cannot be right everywhere (``ORDER BY a DESC, b``, ``SEND MAIL to, subject, body``), so
    the splitter also tries the other readings of the connector words, fewest changes
    first, and keeps the first one that fits a shape with readable expressions; ``flips``
    tells how far from the defaults it had to go. A multi-word value keyword written with
    spaces at the start of an argument takes the rest of the line (DIALECT §4.9 rule 4).
    """

    MAX_CANDIDATES = 10

    def __init__(self, phrases: PhraseMatcher) -> None:
        self.phrases = phrases

    def call_reading(self, spec: KeywordSpec, rest: str) -> Reading:
        """The best reading of a call; ``PHRASE(a, b)`` counts as the arguments ``a, b``."""
        stripped = rest.strip()
        if stripped.startswith("(") and matching_paren(stripped) == len(stripped) - 1:
            return self.render(self.items(stripped[1:-1], []), set())
        items = self.items(rest, sorted(spec.connectors, key=lambda c: -len(c.split())))
        candidates = [i for i, item in enumerate(items) if isinstance(item, Candidate)]
        default = self.render(items, set())
        if spec.matches(default.shape) and not default.juxtaposed:
            return default
        for flipped in flip_sets(candidates[:self.MAX_CANDIDATES]):
            reading = self.render(items, flipped)
            if spec.matches(reading.shape) and not reading.juxtaposed:
                return reading
        return default

    def items(self, rest: str, connectors: list[str]) -> list:
        """Raw text chunks, ``","`` for commas and ``Candidate`` connector words."""
        items: list = []
        pending = ""
        depth = 0
        i = 0
        while i < len(rest):
            if depth == 0 and not pending.strip() and self.nested(rest[i:]):
                pending += rest[i:]
                break
            ch = rest[i]
            if ch == '"':
                end = rest.find('"', i + 1)
                end = len(rest) - 1 if end < 0 else end
                pending += rest[i:end + 1]
                i = end + 1
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif depth == 0 and ch == ",":
                items += [pending, ","]
                pending = ""
                i += 1
                continue
            elif depth == 0 and (ch.isalpha() or ch == "_"):
                found = connector_at(rest, i, connectors)
                if found:
                    connector, end = found
                    after = rest[end:].lstrip()
                    default = not (after[:1] and after[0] in NAME_FOLLOWERS
                                   or OPERATOR_TAIL.search(pending))
                    items += [pending, Candidate(connector, rest[i:end], default)]
                    pending = ""
                    i = end
                    continue
            pending += ch
            i += 1
        items.append(pending)
        return items

    def render(self, items: list, flipped: set[int]) -> Reading:
        """The shape of ``items`` with the ``flipped`` candidates read the other way."""
        parts: list[str] = []
        juxtaposed_texts: list[str] = []
        pending = ""

        def flush() -> None:
            if pending.strip():
                parts.append("x")
                if juxtaposed(pending, self.phrases):
                    juxtaposed_texts.append(pending.strip())

        for index, item in enumerate(items):
            if item == ",":
                flush()
                parts.append(",")
                pending = ""
            elif isinstance(item, Candidate):
                if item.default != (index in flipped):
                    flush()
                    parts.append(f" {item.connector} ")
                    pending = ""
                else:
                    pending += " " + item.raw + " "
            else:
                pending += item
        flush()
        return Reading(" ".join("".join(parts).split()), juxtaposed_texts, len(flipped))

    def nested(self, text: str) -> bool:
        """A multi-word value keyword written with spaces (``GET SESSION id``)."""
        found = self.phrases.match(text)
        return bool(found and found[0].value and " " in found[1].strip())


def connector_at(text: str, i: int, connectors: list[str]) -> Optional[tuple[str, int]]:
    """The connector starting at ``i`` and where it ends (``_`` may join its words)."""
    if i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_.$"):
        return None  # inside a word or a member name after a dot
    for connector in connectors:
        pattern = r"[\s_]+".join(re.escape(w) for w in connector.split()) + r"\b"
        m = re.compile(pattern, re.I).match(text, i)
        if m:
            return connector, m.end()
    return None


def flip_sets(candidates: list[int]) -> Iterator[set[int]]:
    """Every non-empty subset of the candidates, smallest first."""
    for size in range(1, len(candidates) + 1):
        for combo in combinations(candidates, size):
            yield set(combo)


OPERATOR_WORDS = {"AND", "OR", "NOT", "MOD", "IS", "LIKE", "CONTAINS", "IN", "BETWEEN",
                  "NEW", "CREATE"}
TOKEN = re.compile(r"\s*(\"\"|''|#?[\[({]|[\])}]|\d+(?:\.\d+)?|[A-Za-z_]\w*\$?|\S)")


def juxtaposed(text: str, phrases: PhraseMatcher) -> bool:
    """Two operands side by side with no operator between (``"0 9 * * *" DATEADD(...)``):
    the parser cannot read that as one expression. A keyword form inside the expression
    (``FORMAT x AS p``, ``GET SESSION id``) takes the next operand and its connectors act
    as operators."""
    operators = set(OPERATOR_WORDS)
    previous_operand = False
    depth = 0
    position = 0
    while True:
        m = TOKEN.match(text, position)
        if not m:
            return False
        token, start, position = m.group(1), m.start(1), m.end()
        if depth:
            depth += token[-1] in "[({"
            depth -= token in "])}"
            continue
        if token[-1] in "[({":
            if previous_operand and token.startswith(("#", "{")):
                return True
            depth, previous_operand = 1, True
            continue
        is_word = token[0].isalpha() or token[0] == "_"
        if is_word and not previous_operand and not member_after(text, start):
            found = phrases.match(text[start:])
            if found and found[0].value:
                operators |= found[0].connectors
                position = len(text) - len(found[2])
                continue
        operand = token in ('""', "''") or token[0].isdigit() or (
            is_word and token.upper() not in operators)
        if operand and previous_operand and not member_after(text, start):
            return True
        previous_operand = operand


def bare_keywords(text: str, phrases: PhraseMatcher) -> list[str]:
    """Value keywords written without parentheses inside an expression text
    (``"Period: " + FORMAT NOW() AS "MMMM"``, ``ANALYZE SENTIMENT sid, GET SESSION sid, "k"``).

    Counted: phrases written with spaces, and the value-only Compat forms (FORMAT, FIRST
    ...) followed by an operand. Other single words are usually variables (``filter``).
    """
    found_phrases = []
    for m in re.finditer(r"[A-Za-z_]\w*", text):
        start = m.start()
        if start and (text[start - 1].isalnum() or text[start - 1] in "_.$"):
            continue
        found = phrases.match(text[start:])
        if not found or not found[0].value or found[2].lstrip().startswith("("):
            continue
        spaced = " " in found[1].strip()
        operand_follows = re.match(r"\s+(\w|\")", found[2]) is not None
        if spaced or (not found[0].statement and operand_follows):
            found_phrases.append(found[0].phrase)
    return found_phrases


def member_after(text: str, position: int) -> bool:
    """The word at ``position`` is a member name (``a.b``)."""
    return text[:position].rstrip().endswith(".")


def matching_paren(text: str) -> int:
    """Index of the ``)`` closing the ``(`` that starts ``text`` (strings are blanked)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


# ------------------------------------------------------------------ classification


@dataclass
class Finding:
    """What one statement (or the keyword in its value position) turned out to be."""

    kind: str  # "keyword" | "grammar" | "assignment" | "lone word" | "uncovered"
    key: str  # phrase, grammar head or head words
    shape: Optional[str] = None
    ok: bool = True
    juxtaposed: tuple[str, ...] = ()  # argument texts the expression grammar cannot read
    flips: int = 0  # connector words read against the default rules
    nested: tuple[str, ...] = ()  # keywords without parentheses inside the arguments


def grammar_head(text: str, procedures: set[str]) -> Optional[str]:
    """The grammar statement ``text`` starts with, if any."""
    words = [w.upper() for w in WORD.findall(text[:60])]
    if not words:
        return None
    if LABEL.match(text.strip()):
        return "label"
    two = " ".join(words[:2])
    if two in GRAMMAR_HEADS:
        return two
    if words[0] in GRAMMAR_HEADS:
        return words[0]
    if METHOD_CALL.match(text):
        return "method call"
    if words[0].rstrip("$") in procedures and text.lstrip()[:len(words[0])].upper() == words[0]:
        return "procedure call"
    return None


class Classifier:
    """Sorts statements into assignments, keyword calls, grammar and uncovered heads."""

    def __init__(self, registry: Registry) -> None:
        self.phrases = PhraseMatcher(registry)
        self.splitter = ArgumentSplitter(self.phrases)

    def classify(self, statement: Statement, procedures: set[str]) -> list[Finding]:
        text = statement.text.strip()
        if ASSIGNMENT.match(text):
            value = text[ASSIGNMENT.match(text).end():]
            keyword = self.value_keyword(value)
            nested = () if keyword else tuple(bare_keywords(value, self.phrases))
            return [Finding("assignment", "=", nested=nested)] + keyword
        found = self.phrases.match(text)
        if found and found[0].statement:
            return [self.keyword_finding(*found)]
        head = grammar_head(text, procedures)
        if head:
            return [Finding("grammar", head)] + self.grammar_values(head, text)
        if found:
            return [self.keyword_finding(*found)]
        words = [w.upper() for w in WORD.findall(text)[:2]]
        return [Finding("uncovered", " ".join(words) or text[:20])]

    def keyword_finding(self, spec: KeywordSpec, written: str, rest: str) -> Finding:
        reading = self.splitter.call_reading(spec, rest)
        return Finding("keyword", spec.phrase, reading.shape, spec.matches(reading.shape),
                       tuple(reading.juxtaposed), reading.flips,
                       tuple(p for p in bare_keywords(rest, self.phrases)
                             if p not in spec.connectors))

    def value_keyword(self, value: str) -> list[Finding]:
        """A keyword standing right after ``=`` / RETURN / IN (value position)."""
        found = self.phrases.match(value)
        if not found or not found[0].value:
            return []
        finding = self.keyword_finding(*found)
        if finding.shape == "" and not finding.ok and " " not in found[1].strip():
            # a lone word (``IN list``, ``RETURN post``, ``= send_email``) is a variable
            return [Finding("lone word", finding.key)]
        return [finding]

    def grammar_values(self, head: str, text: str) -> list[Finding]:
        if head == "RETURN":
            return self.value_keyword(re.sub(r"^RETURN\b", "", text, flags=re.I))
        if head == "FOR":
            position = top_level_word(text, "IN")
            if position >= 0:
                return self.value_keyword(text[position + 2:])
        return []


# ------------------------------------------------------------------ report


def scan(root: Path, registry: Registry) -> list[tuple[Statement, Finding]]:
    """Classify every statement of every BASIC file under ``root``."""
    classifier = Classifier(registry)
    findings: list[tuple[Statement, Finding]] = []
    for path in corpus_files(root):
        statements, procedures = statements_of(path, root)
        for statement in statements:
            for finding in classifier.classify(statement, procedures):
                findings.append((statement, finding))
    return findings


def report(findings: list[tuple[Statement, Finding]], examples: int, out=sys.stdout) -> None:
    """Print the summary and every section of the report."""
    kinds = Counter(f.kind for _, f in findings)
    print(f"statements: {sum(kinds.values())}  " + "  ".join(
        f"{k}: {v}" for k, v in sorted(kinds.items())), file=out)
    used = {f.key for _, f in findings if f.kind == "keyword"}
    print(f"distinct keywords used: {len(used)}", file=out)
    grouped = lambda pick: group(findings, pick)  # noqa: E731 - local shorthand
    print_groups("uncovered heads (first two words)",
                 grouped(lambda f: [f.key] if f.kind == "uncovered" else []), examples, out)
    print_groups("shape mismatches (phrase [shape])",
                 grouped(lambda f: [f"{f.key} [{f.shape}]"]
                         if f.kind == "keyword" and not f.ok else []), examples, out)
    print_groups("arguments with two operands side by side (no expression can read them)",
                 grouped(lambda f: [f"{f.key} [{f.shape}]"] if f.juxtaposed else []),
                 examples, out)
    print_groups("keywords without parentheses inside an expression or another keyword's "
                 "arguments (DIALECT §4.9 rules 3-4)",
                 grouped(lambda f: list(f.nested)), examples, out)
    print_groups("keyword words alone in a value position, read as variables",
                 grouped(lambda f: [f.key] if f.kind == "lone word" else []), examples, out)
    print_groups("connector words read against the default rules to fit a shape",
                 grouped(lambda f: [f"{f.key} [{f.shape}]"] if f.flips and f.ok else []),
                 examples, out)


def group(findings, pick) -> dict[str, list[Statement]]:
    """Statements by the keys ``pick(finding)`` returns (a list, usually of one key)."""
    groups: dict[str, list[Statement]] = defaultdict(list)
    for statement, finding in findings:
        for key in pick(finding):
            groups[key].append(statement)
    return groups


def print_groups(title: str, groups: dict[str, list[Statement]], examples: int, out) -> None:
    total = sum(len(uses) for uses in groups.values())
    print(f"\n{title}: {len(groups)} distinct, {total} statements", file=out)
    for key, uses in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        where = ", ".join(s.where for s in uses[:examples])
        print(f"  {len(uses):4d}  {key:<34} {where}", file=out)


def show(findings, phrase: str, out=sys.stdout) -> None:
    wanted = normalize_phrase(phrase)
    for statement, finding in findings:
        if finding.kind == "keyword" and finding.key == wanted:
            mark = "!!" if not finding.ok else "~~" if finding.juxtaposed else "  "
            print(f"{mark} [{finding.shape}] {statement.where}: {statement.text[:150]}", file=out)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?",
                        default=os.environ.get("BOTBASIC_CORPUS", DEFAULT_CORPUS))
    parser.add_argument("--show", metavar="PHRASE", help="list every use of one keyword")
    parser.add_argument("--examples", type=int, default=2, help="examples per row")
    args = parser.parse_args(argv)
    registry = Registry()
    declare_all(registry)
    findings = scan(Path(args.corpus), registry)
    if args.show:
        show(findings, args.show)
    else:
        report(findings, args.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
