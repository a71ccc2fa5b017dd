"""The dialect's words and token patterns, as the scanner uses them (DIALECT §2, §2.4)."""
from __future__ import annotations

import re

# Words that are tokens of their own wherever they appear (§2.4), except after "." and
# as object keys / assignment targets.
RESERVED = {
    w: w for w in (
        "IF THEN ELSE ELSEIF END FOR EACH IN TO STEP NEXT DO LOOP WHILE WEND UNTIL SELECT "
        "CASE SWITCH DEFAULT SUB FUNCTION CALL RETURN EXIT GOTO AND OR NOT MOD TRUE FALSE "
        "NULL IS LET WITH ENDIF"
    ).split()
}
# Reserved words that never start a statement.
NOT_A_HEAD = {"THEN", "EACH", "IN", "TO", "STEP", "UNTIL", "AND", "OR", "NOT", "MOD", "TRUE",
              "FALSE", "NULL", "IS"}
# Words that only have a meaning at the head of a statement.
HEAD_WORDS = {"DIM", "TRY", "CATCH", "THROW", "ASSERT", "BREAK", "CONTINUE", "GOSUB"}
# Soft infix operators: an operator after an operand, a name elsewhere.
INFIX_WORDS = {"CONTAINS", "LIKE", "BETWEEN"}
# Keyword forms of functions that bind tightly inside expressions (§4.9 rule 3).
TIGHT_WORDS = {"FORMAT", "FIRST", "LAST"}

OPERAND_END = {"NAME", "NUMBER", "STRING", "ISTRING", "RPAR", "RSQB", "RBRACE", "TRUE",
               "FALSE", "NULL", "NEWOBJ", "NEWARR", "EMPTY"}
INFIX_TOKENS = {"STARTSWITH", "ENDSWITH"}
# A newline after one of these continues the logical line (§2.6 rule 4).
CONTINUATION = {"PLUS", "MINUS", "STAR", "SLASH", "AMP", "COMMA", "AND", "OR", "ANDAND",
                "OROR"}

WS_RE = re.compile(r"[ \t\f\v\r]+")
WORD_RE = re.compile(r"[^\W\d]\w*\$?")
NUMBER_RE = re.compile(r"(?:\d+\.\d+|\d+\.(?![\w.])|\.\d+|\d+)(?:[eE][+-]?\d+)?")
OPS = [
    ("<>", "NE"), ("!=", "NE"), ("<=", "LE"), (">=", "GE"), ("==", "EQEQ"), ("&&", "ANDAND"),
    ("||", "OROR"), ("??", "QQ"), ("?.", "QDOT"), ("#{", "HASHBRACE"), ("**", "POW"),
    ("=", "EQ"), ("<", "LT"), (">", "GT"), ("+", "PLUS"), ("-", "MINUS"), ("*", "STAR"),
    ("/", "SLASH"), ("\\", "BSLASH"), ("^", "CARET"), ("&", "AMP"), ("(", "LPAR"),
    (")", "RPAR"), ("[", "LSQB"), ("]", "RSQB"), ("{", "LBRACE"), ("}", "RBRACE"),
    (",", "COMMA"), (".", "DOT"), (":", "COLON"), ("?", "QMARK"), ("!", "BANG"),
    ("%", "PERCENT"),
]
OP_RE = re.compile("|".join(re.escape(op) for op, _ in OPS))
OP_TYPE = dict(OPS)
OPENERS = {"(": ")", "[": "]", "{": "}", "#{": "}"}

ASSIGN_AFTER = re.compile(r"[ \t]*(?:=(?!=)|\?\.|\.(?!\d)|\[)")
ACCESS_AFTER = re.compile(r"[ \t]*(?:=|\?\.|\.(?!\d)|\[)")
SET_ASSIGN = re.compile(
    r"(?i)(?:SET|LET)[ \t]+[^\W\d]\w*\$?(?:[ \t]*(?:\??\.[ \t]*\w+|\[[^\]\n]*\]))*[ \t]*=(?!=)")
LABEL_RE = re.compile(r"([^\W\d]\w*)[ \t]*:[ \t]*(?=\n|$|')")
VERBATIM_OPEN = re.compile(r"(?i)BEGIN[ \t]+(TALK|SYSTEM[ \t]+PROMPT|MAIL)\b([^\n]*)")
TABLE_OPEN = re.compile(r"(?i)TABLE[ \t]+[\"\w.]")
CLAUSE_LINE = re.compile(r"(?i)[ \t]*(WHERE|ORDER[ \t]+BY|GROUP[ \t]+BY|VALUES|LIMIT|HAVING)\b")
WITH_OPTIONS = re.compile(r"(?i)[ \t]*WITH[ \t]+(OPTIMIZE|MAX_COST|MAX_LATENCY)\b")
SQL_CONTINUATION = re.compile(
    r"(?i)[ \t]*(FROM|JOIN|LEFT|RIGHT|INNER|OUTER|WHERE|GROUP[ \t]+BY|ORDER[ \t]+BY|HAVING|LIMIT)\b")
ERROR_MESSAGE = re.compile(r"(?i)ERROR[ \t]+MESSAGE\b")
NEW_OBJECT = re.compile(r"(?i)(NEW|CREATE)[ \t]+(OBJECT|ARRAY)\b")
ON_ERROR = re.compile(r"(?i)ON[ \t]+ERROR\b")
CLEAR_ERROR = re.compile(r"(?i)CLEAR[ \t_]+ERROR\b")
BINARY_WORDS = r"(?:" + "|".join(sorted(RESERVED) + [
    "LIKE", "CONTAINS", "BETWEEN", "STARTS", "ENDS", "AS"]) + r")\b"
JUXTAPOSED = re.compile(r"""[ \t]+(?!""" + BINARY_WORDS + r""")["'\w]""", re.I)
MEMBER_AFTER = re.compile(r"(?:\.(?!\d)|\[|\?\.)")
NOT_TIGHT = re.compile(r"[ \t]*(?:\(|[-+*/=<>,)]|\b(?:AND|OR|THEN|TO|AS|IS|MOD)\b)", re.I)
KW_OPERAND_ARG = re.compile(r"""[ \t]+(?!""" + BINARY_WORDS + r""")(?:["'\w(\[{#]|-\d)""", re.I)
# Connectors that take no argument: `ORDER BY a DESC, b` keeps DESC a connector.
BARE_FLAGS = {"DESC", "ASC", "OPTIONAL", "REQUIRED", "FIRST", "RECURSIVE", "APPEND"}
# Keywords whose unquoted rest of line is their text argument (Compat).
TEXT_REST_KEYWORDS = {"DESCRIPTION", "SET SCHEDULE"}
# Keywords a script may use as an operand without parentheses (§4.9 rule 1).
OPERAND_KEYWORDS = {"GET", "FIND", "LLM", "RECALL"}
# Tokens after which an operand must come: a reserved word there is a variable name.
NEEDS_OPERAND = {"PLUS", "MINUS", "STAR", "SLASH", "BSLASH", "CARET", "POW", "AMP", "EQ", "EQEQ",
                 "NE", "LT", "GT", "LE", "GE", "PERCENT", "QQ", "ANDAND", "OROR", "BANG", "LPAR",
                 "LSQB", "LBRACE", "HASHBRACE", "COMMA", "COLON", "QMARK", "AND", "OR", "NOT",
                 "MOD", "KW", "KWP", "CONN", "KCONN", "TIGHT", "IF", "WHILE", "UNTIL", "RETURN", "IN",
                 "TO", "STEP", "LIKE", "CONTAINS", "BETWEEN", "THROW", "ASSERT", "KWOP", "KWOPG",
                 "STARTSWITH", "ENDSWITH", "ELSEIF", "EACH"}
EXPR_START_RESERVED = {"NOT", "TRUE", "FALSE", "NULL", "CALL"}
ARG_START = re.compile(
    r"""[ \t]*(?!(?:AND|OR|MOD|IS|IN|NOT|TO|THEN|ELSE|STEP|LIKE|CONTAINS|BETWEEN)\b)"""
    r"""(?:[\w"'(\[{#!$]|[-+](?![ \t])|\.\d)""", re.I)
