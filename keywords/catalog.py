"""The keyword catalog: every keyword statement of the dialect, declared with its shapes.

``declare_all(registry)`` declares (``Registry.declare``) each keyword of DIALECT §8 (PARAM,
DESCRIPTION), §9 and the index §13 that is not grammar. A declared keyword parses and is
checked against its shapes; running it raises "not available" until a family module
registers an implementation (which replaces the spec and keeps its aliases).

How to read a declaration (see ``registry.KeywordSpec``):

* ``shapes`` are regular expressions over the shape string of the arguments: ``x`` per
  expression, ``,`` per comma, `` WORD `` per connector, whitespace collapsed
  (``SEND MAIL a, b, c USING d`` -> ``x,x,x USING x``). The building blocks below keep
  the common ones readable (``args(1, 3)`` is "one to three comma-separated expressions").
* ``connectors`` are the words that split this keyword's arguments at bracket depth 0. A
  connector word followed by ``,`` ``)`` ``=`` ``.`` ``[`` is an ordinary name, so
  ``SEND MAIL to, subject, body`` keeps ``to`` as a variable; right after a binary operator
  it is a name too (``SUBJECT "Re: " + subject BODY b``); at the end of the line it is a
  bare connector (``OPTIONAL``, ``DESC``, ``FIRST``). Where those defaults are wrong
  (``body`` ending ``SEND MAIL to, subject, body``; ``DESC`` before the comma of
  ``ORDER BY a DESC, b``) the shapes admit only the other reading, so a parser that
  prefers the reading that fits a shape gets every corpus form right
  (``scripts/keyword_heads.py`` lists the statements that need it).
* Multi-word connectors (``ORDER BY``, ``WITH TEMPLATE``, ``AS MENU``) are single
  separators. Words written with an underscore in scripts (``WITH MAX_COST``) are declared
  with a space, like phrases (``WITH MAX COST``); the parser is expected to treat ``_``
  between connector words as it does between phrase words.
* ``value=False``: a pure statement that produces nothing (TALK, SET BOT MEMORY ...); it is
  not recognised after ``=`` nor as ``PHRASE(args)`` inside expressions. That also keeps the
  built-in *function* of the same name in charge inside expressions (``LOG(n)``, ``PUSH(a, v)``).
* ``statement=False``: value-only forms. Used for the Compat keyword forms of functions
  (``FORMAT x AS p``, ``FIRST x``, ``MAX a, b`` ...) and for the legacy in-memory
  ``SELECT ... FROM`` (which must never shadow ``SELECT CASE`` at a statement head).
* ``status``: ``core`` (documented / reference engine), ``compat`` (needed by real templates
  or the legacy dialect), ``aspirational`` (showcase templates and docs only; DIALECT §12.3).

Keywords are grouped by DIALECT section, one function per family. Grammar statements (IF,
loops, SUB, CALL, WITH blocks, BEGIN ... END blocks, TABLE, ON ERROR, END ON ...) are not
here: the parser handles them.
"""
from __future__ import annotations

from typing import Callable

from .registry import Registry

# ---------------------------------------------------------------- shape building blocks

NONE = ""  # no arguments at all (CLEAR SUGGESTIONS)
ONE = "x"  # exactly one expression
LIST = "x(,x)*"  # one or more comma-separated expressions
ANY = "(x(,x)*)?"  # zero or more comma-separated expressions


def args(minimum: int, maximum: int) -> str:
    """``minimum`` to ``maximum`` comma-separated expressions (``args(1, 3)`` -> 1..3)."""
    if maximum < minimum or maximum < 1:
        raise ValueError("bad argument range")
    if minimum == 0:
        return f"(x(,x){{0,{maximum - 1}}})?"
    return f"x(,x){{{minimum - 1},{maximum - 1}}}"


def optional(shape: str) -> str:
    """The shape, or nothing at all."""
    return f"({shape})?"


Declare = Callable[..., None]


def declare_all(registry: Registry) -> None:
    """Declare every catalogued keyword on ``registry`` (no implementations)."""
    for family in FAMILIES:
        family(registry.declare)


# ---------------------------------------------------------------- §8 tool declarations


def tool_declarations(declare: Declare) -> None:
    """PARAM and DESCRIPTION: static declarations read by the tool-schema generator."""
    declare(
        "PARAM",
        shapes=[
            # PARAM name [AS type | AS "v1", "v2" ...] then clauses in any order. A parameter
            # named like a connector (PARAM description AS STRING ..., 7 templates) may
            # arrive as the bare connector DESCRIPTION: the analyzer takes it as the name.
            r"(x|DESCRIPTION)( AS x(,x)*)?"
            r"(( LIKE| DESCRIPTION| DEFAULT| ENUM) x| OPTIONAL| REQUIRED)*",
            r"x(,x)+",  # PARAM a, b, c (docs): several untyped parameters
        ],
        connectors=["AS", "LIKE", "DESCRIPTION", "OPTIONAL", "REQUIRED", "DEFAULT", "ENUM"],
        value=False, section="8.2")
    # The Compat unquoted form (DESCRIPTION It is a WebService of GB.) is not an expression:
    # the parser takes the rest of the line as text before the shapes are consulted.
    declare("DESCRIPTION", shapes=[ONE], value=False, section="8.3")


# ---------------------------------------------------------------- §9.1 conversation


def conversation(declare: Declare) -> None:
    declare("TALK", shapes=[ONE], value=False, section="9.1.1")
    declare("PRINT", shapes=[ANY], value=False, section="9.1.1")
    declare("TALK TO", shapes=["x,x"], value=False, section="9.1.2")
    declare(
        "HEAR",
        shapes=[
            # HEAR var [AS type | AS "a", "b" | AS MENU "a", "b"] [WITH prompt] [DEFAULT v]
            # and the value forms  x = HEAR [AS type]  /  x = HEAR "prompt".
            r"(x)?( AS x(,x)*| AS MENU x(,x)*)?( WITH x)?( DEFAULT x)?",
        ],
        connectors=["AS", "AS MENU", "WITH", "DEFAULT"],
        # target: the first expression of the statement form is the variable to assign;
        # the value forms (x = HEAR ...) have none.
        suspends=True, target=True, section="9.1.4")
    declare("ASK", shapes=[ONE], suspends=True, status="compat", section="9.1.10")
    declare("WAIT", shapes=[ONE], value=False, section="9.1.5")
    declare("WAIT FOR EVENT", shapes=["x( TIMEOUT x)?"], connectors=["TIMEOUT"],
            suspends=True, status="aspirational", section="9.1.5")
    declare("WAIT FOR RESPONSE", shapes=["AS x( TIMEOUT x)?"], connectors=["AS", "TIMEOUT"],
            suspends=True, target=True, status="aspirational", section="9.1.5")
    declare("ADD SUGGESTION", shapes=["x( AS x|,x)?"], connectors=["AS"], value=False,
            section="9.1.6")
    # Separate phrases rather than TEXT/TOOL connectors: the kind changes what the button does.
    declare("ADD SUGGESTION TEXT", shapes=["x( AS x)?"], connectors=["AS"], value=False,
            section="9.1.6")
    declare("ADD SUGGESTION TOOL", shapes=["x( AS x)?"], connectors=["AS"], value=False,
            section="9.1.6")
    declare("CLEAR SUGGESTIONS", shapes=[NONE], value=False, section="9.1.7")
    declare("ADD SWITCHER", shapes=["x( AS x)?"], connectors=["AS"], value=False,
            section="9.1.8")
    declare("CLEAR SWITCHERS", shapes=[NONE], value=False, section="9.1.8")
    declare("SEND FILE", shapes=[args(1, 2)], section="9.1.9")
    declare("SEND FILE TO", shapes=[args(2, 3)], section="9.1.9")
    declare("SEND MESSAGE", shapes=[ONE], value=False, status="compat", section="9.1.10")
    declare("SEND TO", shapes=["x,x"], value=False, section="9.1.10")
    declare("SEND TO SESSION", shapes=["x,x"], value=False, status="compat",
            section="9.1.10")  # attendance-crm/queue-monitor
    declare("BROADCAST", shapes=["x TO x", "x TO BOTS"], connectors=["TO", "TO BOTS"],
            value=False, section="9.1.10")  # BROADCAST msg TO BOTS is §9.11
    declare("CARD", shapes=[args(2, 4) + " TO x"], connectors=["TO"], section="9.1.10")
    declare("PLAY", shapes=["x( WITH OPTIONS x)?"], connectors=["WITH OPTIONS"], value=False,
            section="9.1.10")
    for phrase in ("PAUSE", "RESUME", "STOP"):
        declare(phrase, shapes=[optional(ONE)], value=False, section="9.1.10")
    declare("ALLOW ROLE", shapes=[ONE], value=False, status="compat", section="9.1.10")


# ---------------------------------------------------------------- §9.2 memory and session


def memory_and_session(declare: Declare) -> None:
    key_value = "x(,| AS )x"  # KEY, value  or  KEY AS value
    declare("SET BOT MEMORY", shapes=[key_value], connectors=["AS"], value=False,
            section="9.2.1")
    declare("GET BOT MEMORY", shapes=[ONE], section="9.2.2")
    declare("SET USER MEMORY", shapes=["x,x"], value=False, section="9.2.3")
    declare("GET USER MEMORY", shapes=[ONE], section="9.2.3")
    declare("CLEAR USER MEMORY", shapes=[NONE], value=False, section="9.2.3")
    declare("SET USER FACT", shapes=["x,x"], value=False, section="9.2.3")
    declare("REMEMBER USER FACT", shapes=[ONE], value=False, section="9.2.3")
    declare("USER FACTS", shapes=[NONE], section="9.2.3")
    declare("GET USER FACTS", shapes=[NONE], section="9.2.3")
    # REMEMBER key = value (crm, erp) arrives as one comparison expression.
    declare("REMEMBER", shapes=[args(1, 3)], section="9.2.4")
    declare("RECALL", shapes=[ONE], section="9.2.4")
    declare("SET USER", shapes=[args(1, 3)], value=False,
            section="9.2.5")  # SET USER name, email, id: botserver-2025 enrollment_with_kb
    declare("USE ACCOUNT", shapes=[ONE], value=False, section="9.2.6")
    declare("GET SESSION", shapes=[args(1, 2)], section="9.2.7")
    declare("SET SESSION", shapes=[args(2, 3)], value=False, section="9.2.7")
    # Plain SET: SET "k", v / SET name, v (session), SET "t", "filter", "a=b" (table, §9.6.8),
    # and SET "session.k" = v, which arrives as ONE expression (a comparison): the
    # implementation reads it as a write. SET target = expr with a variable target is an
    # assignment and never reaches this keyword.
    declare("SET", shapes=[args(1, 3)], value=False, section="9.2.7")
    declare("CACHE SET", shapes=[args(2, 3)], value=False, status="aspirational",
            section="9.2.8")
    declare("CACHE GET", shapes=[ONE], status="aspirational", section="9.2.8")
    declare("BOT SHARE MEMORY", shapes=["x WITH x"], connectors=["WITH"], value=False,
            status="aspirational", section="9.2.9")
    declare("BOT SYNC MEMORY", shapes=["FROM x"], connectors=["FROM"], value=False,
            status="aspirational", section="9.2.9")
    declare("GET CONFIG", shapes=[ONE], section="9.2.10")


# ---------------------------------------------------------------- §9.3 context and LLM


def context_and_llm(declare: Declare) -> None:
    declare("SET CONTEXT", shapes=["x( AS x|,x)?"], connectors=["AS"], value=False,
            section="9.3.1")
    declare("CLEAR CONTEXT", shapes=[optional(ONE)], value=False, section="9.3.1")
    declare("SET ANSWER MODE", shapes=[ONE], value=False, section="9.3.3")
    # Legacy talk-to-data / data-analysis statements next to SET ANSWER MODE.
    declare("ANSWER", shapes=[ONE], status="aspirational", section="9.3.3")
    declare("REFRESH", shapes=[ONE], value=False, status="aspirational", section="9.3.3")
    declare(
        "LLM",
        shapes=["x( WITH OPTIMIZE FOR x| WITH MAX COST x| WITH MAX LATENCY x)*"],
        connectors=["WITH OPTIMIZE FOR", "WITH MAX COST", "WITH MAX LATENCY"],
        section="9.3.4")
    declare("USE MODEL", shapes=[ONE], value=False, section="9.3.5")
    declare("SET MODEL ROUTING", shapes=[ONE], value=False, section="9.3.5")
    declare("GET CURRENT MODEL", shapes=[NONE], section="9.3.5")
    declare("LIST MODELS", shapes=[NONE], section="9.3.5")
    llm_helpers = {
        "SUMMARIZE": ONE, "TRANSLATE": "x,x", "CLASSIFY": "x,x", "SENTIMENT": ONE,
        "REWRITE": ONE, "CALCULATE": args(1, 2), "VALIDATE": "x,x", "SEE": ONE, "OCR": ONE,
        "DETECT": ONE, "GENERATE CODE": ONE, "REFLECT ON": ONE, "BOT REFLECTION": optional(ONE),
    }
    for phrase, shape in llm_helpers.items():
        declare(phrase, shapes=[shape], section="9.3.6")
    # ANALYZE SENTIMENT FROM answers: the default.gbdialog scripts (employee-engage ...).
    declare("ANALYZE SENTIMENT", shapes=[args(1, 2), "FROM x"], connectors=["FROM"],
            section="9.3.6")
    # GET IMAGE prompt (marketing/poster): legacy image generation, not in DIALECT.
    declare("GET IMAGE", shapes=[ONE], status="compat", section="9.3.6")
    declare("IMPROVE TEXT", shapes=["x( WITH TONE x)?"], connectors=["WITH TONE"],
            section="9.3.6")


# ---------------------------------------------------------------- §9.4 knowledge base


def knowledge_base(declare: Declare) -> None:
    declare("USE KB", shapes=[ONE], aliases=["ADD KB"], section="9.4.1")
    declare("SET KB", shapes=[ONE], status="compat", section="9.4.1")
    declare("CLEAR KB", shapes=[optional(ONE)], section="9.4.2")  # CLEAR KB ALL: ALL is x
    declare("THINK KB", shapes=[ONE], section="9.4.3")
    declare("USE WEBSITE", shapes=["x( REFRESH x|,x)?"], connectors=["REFRESH"],
            aliases=["ADD WEBSITE"], section="9.4.4")  # ADD_WEBSITE: botserver-2025 example
    declare("CLEAR WEBSITES", shapes=[NONE], section="9.4.4")
    kb_statistics = {
        "KB STATISTICS": NONE, "KB COLLECTION STATS": ONE, "KB DOCUMENTS COUNT": NONE,
        "KB DOCUMENTS ADDED SINCE": ONE, "KB LIST COLLECTIONS": NONE, "KB STORAGE SIZE": NONE,
    }
    for phrase, shape in kb_statistics.items():
        declare(phrase, shapes=[shape], section="9.4.5")


# ---------------------------------------------------------------- §9.5 tools and MCP


def tools_and_mcp(declare: Declare) -> None:
    # ADD_TOOL "x.bas" as MCP: botserver-2025 examples/start (expose the tool over MCP).
    declare("ADD TOOL", shapes=["x( AS x)?"], connectors=["AS"], aliases=["USE TOOL"],
            section="9.5.1")
    declare("REMOVE TOOL", shapes=[ONE], section="9.5.2")
    declare("CLEAR TOOLS", shapes=[NONE], section="9.5.2")
    declare("LIST TOOLS", shapes=[NONE], section="9.5.2")
    declare("USE MCP", shapes=[args(2, 3)], section="9.5.3")
    declare("MCP LIST TOOLS", shapes=[ONE], section="9.5.3")
    declare("MCP INVOKE", shapes=[args(2, 3)], section="9.5.3")


# ---------------------------------------------------------------- §9.6 data and tables

# FIND's clauses: WHERE condition, ORDER BY col [ASC|DESC][, col ...], LIMIT n, FIRST.
# ``shape_of`` leaves a space between a bare connector and a comma (``x DESC ,x``).
_ORDER_BY = r"( ORDER BY x( ASC| DESC)?( ?,x( ASC| DESC)?)*)?"
_FIND_TAIL = _ORDER_BY + r"( LIMIT x)?( FIRST)?"
_FIND_SHAPES = [
    r"x(,x){0,2}" + _FIND_TAIL,  # "t" / "t", "filter" / "t", "column", value
    r"x( WITH| WHERE) x" + _FIND_TAIL,
]
_FIND_CONNECTORS = ["WITH", "WHERE", "ORDER BY", "ASC", "DESC", "LIMIT", "FIRST"]
_PAIRS = r"x AS x(,x AS x)*"  # col AS expr, col AS expr (SAVE/UPDATE ... WITH)


def data_and_tables(declare: Declare) -> None:
    declare("FIND", shapes=_FIND_SHAPES, connectors=_FIND_CONNECTORS, section="9.6.3")
    for phrase in ("FIND ONE", "FIND ALL"):  # bottest / aspirational spellings
        declare(phrase, shapes=_FIND_SHAPES, connectors=_FIND_CONNECTORS,
                status="aspirational", section="9.6.3")
    declare(
        "SAVE",
        shapes=[LIST, "x WITH " + _PAIRS, "x TO x"],  # SAVE obj TO "t": default.gbdialog
        connectors=["WITH", "AS", "TO"], section="9.6.4")
    declare("INSERT", shapes=[LIST, "INTO x( VALUES x|(,x)+)"],
            connectors=["INTO", "VALUES"], section="9.6.5")
    declare(
        "UPDATE",
        shapes=[
            # "t", filter|id, obj  /  "t", id, "column", value  /  "t", filter, v1, v2 ...
            # (lead-nurture, update-stage: columns named after the variables, as SAVE).
            r"x,x(,x)+",
            r"x SET x(,x)* WHERE x",
            r"x WITH " + _PAIRS + " WHERE x",
        ],
        connectors=["SET", "WITH", "AS", "WHERE"], section="9.6.6")
    declare("DELETE", shapes=[args(1, 2), "FROM x WHERE x"], connectors=["FROM", "WHERE"],
            section="9.6.7")
    # MERGE a, b (contacts/search-contact) merges two result sets.
    declare("MERGE", shapes=[args(2, 3), "x WITH x BY x"], connectors=["WITH", "BY"],
            section="9.6.9")
    # FILTER data WHERE condition: botserver-2025 prompts/security/access-review.
    declare("FILTER", shapes=["x(,| WHERE )x"], connectors=["WHERE"], section="9.6.10")
    declare("AGGREGATE", shapes=[args(3, 4)], section="9.6.10")
    # JOIN, MAP, SORT and FILTER are also built-in functions. The parser should call the
    # function when the name is directly followed by "("; the shapes still accept the
    # function's arguments (JOIN(arr[, sep]) is the string join) so either way parses.
    declare("JOIN", shapes=[args(1, 3)], section="9.6.10")
    declare("GROUP BY", shapes=["x,x"], section="9.6.10")
    declare("PIVOT", shapes=[args(3, 5)], section="9.6.10")
    declare("MAP", shapes=["x,x"], section="9.6.10")
    declare("FILL", shapes=[args(1, 2)], section="9.6.10")  # FILL template (crm/send-proposal)
    declare("SORT", shapes=["x( BY x( ASC| DESC)?)?", "x,x"],
            connectors=["BY", "ASC", "DESC"], section="9.6.10")
    declare(
        "SELECT",  # legacy in-memory SQL, value position only (never shadows SELECT CASE)
        shapes=[r"x( AS x)?(,x( AS x)?)* FROM x"
                r"( JOIN x ON x| WHERE x| GROUP BY x(,x)*| ORDER BY x( ASC| DESC)?"
                r"( ?,x( ASC| DESC)?)*)*"],
        connectors=["AS", "FROM", "JOIN", "ON", "WHERE", "GROUP BY", "ORDER BY", "ASC", "DESC"],
        statement=False, status="aspirational", section="9.6.10")
    declare("CHART", shapes=[args(2, 3)], status="aspirational", section="9.6.10")
    declare("SAVE FROM UNSTRUCTURED", shapes=["x,x"], section="9.6.11")
    declare("APPEND", shapes=["x(,| WITH )x"], connectors=["WITH"], value=False,
            section="9.6.13")  # APPEND body WITH text: botserver-2025 keyword-sendmail
    # As a value, PUSH(a, v) is the built-in function (it returns the array).
    declare("PUSH", shapes=["x,x"], value=False, section="9.6.13")
    declare("IMPORT", shapes=["x INTO x"], connectors=["INTO"], section="9.6.14")
    declare("EXPORT", shapes=["x,x"], section="9.6.14")
    declare("SYNCHRONIZE", shapes=[args(3, 5)], section="9.6.14")
    declare("RESET REPORT", shapes=[NONE], value=False, section="9.6.14")
    # Legacy statements of the JavaScript-era dialect kept by marketing/broadcast; not in
    # DIALECT: SET MAX LINES n (rows read from a sheet) and PUBLISH (publish the package).
    declare("SET MAX LINES", shapes=[ONE], value=False, status="compat", section="9.6.14")
    declare("PUBLISH", shapes=[NONE], value=False, status="compat", section="9.6.14")
    declare("SEARCH", shapes=[args(2, 3)], section="9.6.14")
    declare("SEARCH PRODUCTS", shapes=[args(1, 2)], section="9.6.14")
    declare("PRODUCT", shapes=[ONE], section="9.6.14")


# ---------------------------------------------------------------- §9.7 HTTP and web


def http_and_web(declare: Declare) -> None:
    # GET "config", "key" (crm/new_email, new_session) reads a configuration value.
    declare("GET", shapes=[args(1, 2), "x WITH x(,x)*"], connectors=["WITH"], section="9.7.1")
    body_shapes = [args(1, 3), "x WITH x(,x)*"]  # url[, body[, type]]  /  url WITH k = v, ...
    for phrase, section in (("POST", "9.7.2"), ("PUT", "9.7.2"), ("PATCH", "9.7.2")):
        declare(phrase, shapes=body_shapes, connectors=["WITH"], section=section)
    declare("DELETE HTTP", shapes=[ONE], section="9.7.3")
    declare("GRAPHQL", shapes=[args(2, 3), "x,x WITH x"], connectors=["WITH"], section="9.7.4")
    declare("SOAP", shapes=["x,x,x"], section="9.7.4")
    # SET HEADER "n" = v (default/translate) arrives as one comparison expression.
    declare("SET HEADER", shapes=["x(,| AS )x", ONE], connectors=["AS"], value=False,
            section="9.7.5")
    declare("CLEAR HEADERS", shapes=[NONE], value=False, section="9.7.5")
    declare("SET PAGE MODE", shapes=[ONE], value=False, section="9.7.6")
    scrape = {"SCRAPE": "x,x", "SCRAPE ALL": "x,x", "SCRAPE LINKS": ONE,
              "SCRAPE IMAGES": ONE, "SCRAPE TABLE": "x,x", "RSS": args(1, 2)}
    for phrase, shape in scrape.items():
        declare(phrase, shapes=[shape], section="9.7.7")
    declare("WEBHOOK", shapes=[ONE], value=False, section="9.7.8")
    # WEBHOOK POST "/internal/x" WITH {...} (privacy/manage-consents): an outgoing call.
    declare("WEBHOOK POST", shapes=["x( WITH x)?"], connectors=["WITH"], status="compat",
            section="9.7.8")
    declare("GET TOOL PARAM", shapes=[ONE], section="9.7.8")


# ---------------------------------------------------------------- §9.8 files


def files(declare: Declare) -> None:
    source_target = "x(,| TO )x"  # comma form (reference) or TO form (docs), source first
    declare("READ", shapes=["x( AS x)?"], connectors=["AS"], section="9.8")
    declare("WRITE", shapes=["x(,| TO )x( AS x)?( APPEND)?"],
            connectors=["TO", "AS", "APPEND"], section="9.8")
    for phrase in ("COPY", "MOVE", "COMPRESS", "EXTRACT"):
        declare(phrase, shapes=[source_target], connectors=["TO"], section="9.8")
    declare("DELETE FILE", shapes=[ONE], section="9.8")
    declare("LIST", shapes=["x( FILTER x)?( RECURSIVE)?"], connectors=["FILTER", "RECURSIVE"],
            section="9.8")
    declare("DIR", shapes=[ONE], section="9.8")
    declare("UPLOAD", shapes=[args(1, 2), "x TO x( AS x)?"], connectors=["TO", "AS"],
            section="9.8")
    declare("DOWNLOAD", shapes=[args(1, 2), "x TO x", "x AS x"], connectors=["TO", "AS"],
            section="9.8")
    declare("GENERATE PDF", shapes=["x,x,x", "x WITH TEMPLATE x DATA x"],
            connectors=["WITH TEMPLATE", "DATA"], section="9.8")
    declare("MERGE PDF", shapes=["x,x"], section="9.8")
    declare("QR CODE", shapes=[args(1, 3)], section="9.8")
    declare("SCAN BARCODE", shapes=[ONE], section="9.8")


# ---------------------------------------------------------------- §9.9 mail and messaging


def mail_and_messaging(declare: Declare) -> None:
    # to, [subject,] body [, attachments] [USING account]; SEND EMAIL TO ... (TO is noise);
    # SEND MAIL TO r SUBJECT s BODY b (crm/new_email, quick-broadcast); ..., ATTACHMENT f
    # (analytics/custom-report, privacy) names the attachments argument. SUBJECT and BODY
    # are also common variable names: SEND MAIL to, subject, body must read them as names.
    declare("SEND MAIL",
            shapes=[r"(TO )?x(,x){1,2}(,x|, ATTACHMENT x)?( USING x)?",
                    "TO x SUBJECT x BODY x"],
            connectors=["TO", "USING", "SUBJECT", "BODY", "ATTACHMENT"],
            aliases=["SEND EMAIL"], section="9.9.1")
    declare("CREATE DRAFT", shapes=[args(2, 3)], section="9.9.3")
    declare("SEND TEMPLATE", shapes=[args(3, 4)], section="9.9.4")
    # SEND TEMPLATE TO phone, file[, vars] (whatsapp/send) and the bulk
    # SEND TEMPLATE_TO name, recipients, channel[, vars].
    declare("SEND TEMPLATE TO", shapes=[args(2, 4)], section="9.9.4")
    declare("CREATE TEMPLATE", shapes=["x,x,x,x"], section="9.9.4")
    declare("GET TEMPLATE", shapes=[ONE], section="9.9.4")
    declare("SEND SMS", shapes=[args(2, 4)], section="9.9.5")
    declare("SMS", shapes=["x,x"], section="9.9.5")
    # POST TO platform media, caption has no separator after the platform; only the forms
    # with a comma list can parse. The bare platform words are phrases of their own.
    declare("POST TO", shapes=["x(,x)+", "x AT x(,x)+", "x CONTENT x"],
            connectors=["AT", "CONTENT"], section="9.9.6")  # CONTENT: quick-broadcast
    for platform in ("INSTAGRAM", "FACEBOOK", "LINKEDIN", "TWITTER"):
        declare(f"POST TO {platform}", shapes=[ANY, "AT x(,x)+"], connectors=["AT"],
                status="compat", section="9.9.6")
        declare(f"GET {platform} METRICS", shapes=[ONE], section="9.9.6")
        declare(f"GET {platform} POSTS", shapes=[optional(ONE)], section="9.9.6")
    declare("DELETE POST", shapes=[ONE], section="9.9.6")
    declare("ADD MEMBER", shapes=[args(2, 3)], section="9.9.6")
    declare("CREATE TEAM", shapes=[ANY], section="9.9.6")


# ---------------------------------------------------------------- §9.10 scheduling and events


def scheduling_and_events(declare: Declare) -> None:
    # SET SCHEDULE expr, "job.bas" (analytics/custom-report, marketing campaigns): the
    # second argument names the script to run; erp/crm jobs add a job name as a third.
    declare("SET SCHEDULE", shapes=[args(1, 3)], value=False, section="9.10.1")
    declare("ON EMAIL", shapes=["x( FROM x)?( SUBJECT x)?"], connectors=["FROM", "SUBJECT"],
            value=False, section="9.10.4")
    declare("ON CHANGE", shapes=["x( EVENTS x)?"], connectors=["EVENTS"], value=False,
            section="9.10.5")
    for event in ("INSERT", "UPDATE", "DELETE"):
        declare(f"ON {event} OF", shapes=[ONE], value=False, section="9.10.3")
    declare("ON FORM SUBMIT", shapes=[ONE], value=False, section="9.10.6")
    declare("ON EVENT", shapes=["x( DO)?"], connectors=["DO"], value=False,
            status="aspirational", section="9.10.7")
    declare("PUBLISH EVENT", shapes=[args(1, 2)], value=False, status="aspirational",
            section="9.10.7")
    declare("TRIGGER", shapes=[LIST], value=False, status="aspirational", section="9.10.7")
    # SCHEDULE IN n SECONDS DO ... END SCHEDULE: the head of a tokenised block.
    units = ("SECONDS", "MINUTES", "HOURS", "DAYS")
    declare("SCHEDULE IN", shapes=[f"x ({'|'.join(units)})( DO)?"],
            connectors=[*units, "DO"], value=False, status="aspirational", section="9.10.7")


# ---------------------------------------------------------------- §9.11 multi-agent


def multi_agent(declare: Declare) -> None:
    declare("ADD BOT", shapes=["x( WITH TRIGGER x| WITH TOOLS x| WITH SCHEDULE x)*"],
            connectors=["WITH TRIGGER", "WITH TOOLS", "WITH SCHEDULE"], value=False,
            section="9.11")
    declare("REMOVE BOT", shapes=[ONE], value=False, section="9.11")
    declare("LIST BOTS", shapes=[NONE], section="9.11")
    declare("DELEGATE", shapes=["x TO BOT x( TIMEOUT x)?"], connectors=["TO BOT", "TIMEOUT"],
            section="9.11")
    declare("TRANSFER CONVERSATION", shapes=["TO x"], connectors=["TO"], section="9.11")
    # TRANSFER TO HUMAN reason, priority, context (attendance-crm/start).
    declare("TRANSFER TO HUMAN", shapes=[args(0, 3)], section="9.11")
    declare("SET BOT PRIORITY", shapes=["x,x"], value=False, section="9.11")
    declare("ORCHESTRATE WORKFLOW", shapes=[ONE], value=False, status="aspirational",
            section="9.11")
    declare("DELAY", shapes=[ONE], value=False, status="aspirational", section="9.11")


# ---------------------------------------------------------------- §9.12 tasks and misc


def tasks_and_misc(declare: Declare) -> None:
    declare("CREATE TASK", shapes=[args(1, 5)], section="9.12")
    declare("BOOK", shapes=[args(1, 5)], section="9.12")
    declare("BOOK MEETING", shapes=["x,x"], section="9.12")
    declare("CHECK AVAILABILITY", shapes=["x,x"], section="9.12")
    declare("CREATE SITE", shapes=["x,x,x"], section="9.12")
    declare("WEATHER", shapes=[ONE], section="9.12")
    declare("FORECAST", shapes=[args(1, 2)], section="9.12")
    for language in ("PYTHON", "JAVASCRIPT", "JS", "BASH"):
        declare(f"RUN {language}", shapes=["x( WITH FILE x)?", "WITH FILE x"],
                connectors=["WITH FILE"], section="9.12")
    declare("JSON PARSE", shapes=[ONE], statement=False, section="9.12")
    # LOG is also the natural-logarithm function: value=False leaves LOG(n) to it.
    for phrase in ("LOG", "LOG INFO", "LOG WARN", "LOG ERROR", "LOG DEBUG"):
        declare(phrase, shapes=[LIST], value=False, section="9.12")
    declare("RECORD METRIC", shapes=["x( WITH x(,x)*)?"], connectors=["WITH"], value=False,
            status="aspirational", section="9.12")
    declare("LOG ACTIVITY", shapes=[LIST], value=False, status="aspirational", section="9.12")
    safety = ("REQUIRE APPROVAL", "SIMULATE IMPACT", "CHECK CONSTRAINTS", "AUDIT LOG",
              "PLAN START", "PLAN END", "AUTO TASK", "DECIDE")
    for phrase in safety:
        declare(phrase, shapes=[ANY], status="aspirational", section="9.12")
    declare("ESCALATE", shapes=["(TO )?x(,x)*"], connectors=["TO"], status="aspirational",
            section="9.12")
    declare("DETECT FACES", shapes=[LIST], status="aspirational", section="9.12")
    declare("VERIFY FACE", shapes=[LIST], status="aspirational", section="9.12")


# ---------------------------------------------------------------- §9.13 CRM / attendance


def crm_and_attendance(declare: Declare) -> None:
    declare("GET QUEUE", shapes=[optional(ONE)], section="9.13")
    declare("NEXT IN QUEUE", shapes=[NONE], section="9.13")
    # The templates write the comma forms (sid, value); the docs write TO / WITH.
    to_or_comma, with_or_comma = "x( TO |,)x", "x( WITH |,)x"
    declare("ASSIGN CONVERSATION", shapes=[to_or_comma], connectors=["TO"], section="9.13")
    declare("RESOLVE CONVERSATION", shapes=[optional(with_or_comma), ONE],
            connectors=["WITH"], section="9.13")
    declare("TAG CONVERSATION", shapes=[with_or_comma], connectors=["WITH"], section="9.13")
    declare("SET PRIORITY", shapes=[to_or_comma], connectors=["TO"], value=False,
            section="9.13")
    # ADD NOTE text TO sid (docs) / ADD NOTE sid, text (attendance-crm): roles by form.
    declare("ADD NOTE", shapes=[to_or_comma], connectors=["TO"], value=False, section="9.13")
    declare("GET ATTENDANTS", shapes=["(x| WITH STATUS x)?"], connectors=["WITH STATUS"],
            section="9.13")  # GET ATTENDANTS "online" (attendance-crm)
    declare("SET ATTENDANT STATUS", shapes=[to_or_comma], connectors=["TO"], value=False,
            section="9.13")
    one_argument = ("GET ATTENDANT STATS", "GET CUSTOMER HISTORY", "GET SUMMARY",
                    "GET SMART REPLIES", "SCORE LEAD", "AI SCORE LEAD", "GET LEAD SCORE",
                    "QUALIFY LEAD")
    for phrase in one_argument:
        declare(phrase, shapes=[ONE], section="9.13")
    declare("GET TIPS", shapes=["x,x"], section="9.13")
    # GET ATTENDANT STATUS id (attendance-crm/queue-monitor): the reader of SET ATTENDANT STATUS.
    declare("GET ATTENDANT STATUS", shapes=[ONE], status="compat", section="9.13")
    declare("POLISH MESSAGE", shapes=[args(1, 2)], section="9.13")
    declare("UPDATE LEAD SCORE", shapes=[args(2, 3)], section="9.13")
    for phrase in ("NOTIFY AGENT", "NOTIFY ATTENDANT"):
        declare(phrase, shapes=["x( WITH |,)x"], connectors=["WITH"], section="9.13")


# ---------------------------------------------------------------- §10 keyword forms of functions


def function_keyword_forms(declare: Declare) -> None:
    """Functions written without parentheses (Compat). Value-only: as a statement they
    would do nothing. The parenthesised calls stay the built-in functions' business, but
    the shapes accept the function's arguments too (MAX(array)) in case the parser reads
    ``NAME(...)`` as the keyword."""
    compat_forms = {
        "FORMAT": (["x( AS x|,x)?"], ["AS"], "10.7"),  # FORMAT x AS p / FORMAT x, p / FORMAT x
        "FIRST": ([args(1, 2)], [], "10.6"),  # FIRST x[, n]
        "LAST": ([ONE], [], "10.6"),
        "MAX": ([LIST], [], "10.2"),  # MAX a, b (store-server); MAX(array)
        "MIN": ([LIST], [], "10.2"),
        "DATEADD": (["x,x,x"], [], "10.3"),  # DATEADD d, unit, n (bling)
        "DATEDIFF": ([args(2, 3)], [], "10.3"),
    }
    for phrase, (shapes, connectors, section) in compat_forms.items():
        declare(phrase, shapes=shapes, connectors=connectors, statement=False,
                status="compat", section=section)


FAMILIES: tuple[Callable[[Declare], None], ...] = (
    tool_declarations, conversation, memory_and_session, context_and_llm, knowledge_base,
    tools_and_mcp, data_and_tables, http_and_web, files, mail_and_messaging,
    scheduling_and_events, multi_agent, tasks_and_misc, crm_and_attendance,
    function_keyword_forms,
)
