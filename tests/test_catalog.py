"""The keyword catalog: completeness against DIALECT §13, shapes of real corpus forms, flags."""
from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from botbasic.keywords.catalog import args, declare_all
from botbasic.keywords.registry import Registry, RegistryError, normalize_phrase, shape_of

SPEC_DIR = Path(os.environ.get("BOTBASIC_SPEC", "/work/shared/spec"))
CORPUS_DIR = Path(os.environ.get("BOTBASIC_CORPUS", "/work/shared/corpus"))
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def registry() -> Registry:
    reg = Registry()
    declare_all(reg)
    return reg


def spec_of(registry: Registry, phrase: str):
    spec = registry.keyword_spec(phrase)
    assert spec is not None, f"{phrase} is not declared"
    return spec


# ---------------------------------------------------------------- declaring


def test_declare_all_on_a_fresh_registry():
    reg = Registry()
    declare_all(reg)
    assert len(reg.keywords) > 200
    assert all(spec.handler is None for spec in reg.keywords.values())


def test_declaring_twice_is_refused():
    reg = Registry()
    declare_all(reg)
    with pytest.raises(RegistryError):
        declare_all(reg)


def test_every_keyword_names_its_section_and_status(registry):
    for phrase, spec in registry.keywords.items():
        assert re.fullmatch(r"(8|9|10)\.\d+(\.\d+)?", spec.section), phrase
        assert spec.status in ("core", "compat", "aspirational"), phrase
        assert spec.value or spec.statement, f"{phrase} can be used nowhere"


@pytest.mark.parametrize("low, high, accepted, rejected", [
    (1, 1, ["x"], ["", "x,x"]),
    (1, 3, ["x", "x,x", "x,x,x"], ["", "x,x,x,x"]),
    (0, 2, ["", "x", "x,x"], ["x,x,x"]),
])
def test_args_builds_comma_lists(low, high, accepted, rejected):
    pattern = re.compile(args(low, high))
    assert all(pattern.fullmatch(s) for s in accepted)
    assert not any(pattern.fullmatch(s) for s in rejected)


# ---------------------------------------------------------------- completeness (§13)

# Every row of the DIALECT §13 index, with the catalog phrases that cover it.
INDEX = {
    "ADD BOT / REMOVE BOT / LIST BOTS": ["ADD BOT", "REMOVE BOT", "LIST BOTS"],
    "ADD MEMBER": ["ADD MEMBER"],
    "ADD SUGGESTION (TEXT/TOOL) / CLEAR SUGGESTIONS":
        ["ADD SUGGESTION", "ADD SUGGESTION TEXT", "ADD SUGGESTION TOOL", "CLEAR SUGGESTIONS"],
    "ADD SWITCHER / CLEAR SWITCHERS": ["ADD SWITCHER", "CLEAR SWITCHERS"],
    "ADD TOOL / USE TOOL / REMOVE TOOL / CLEAR TOOLS / LIST TOOLS":
        ["ADD TOOL", "USE TOOL", "REMOVE TOOL", "CLEAR TOOLS", "LIST TOOLS"],
    "AGGREGATE": ["AGGREGATE"],
    "ALLOW ROLE": ["ALLOW ROLE"],
    "APPEND / PUSH": ["APPEND", "PUSH"],
    "ASK": ["ASK"],
    "BOOK": ["BOOK", "BOOK MEETING", "CHECK AVAILABILITY"],
    "CARD": ["CARD"],
    "CLEAR HEADERS / SET HEADER": ["CLEAR HEADERS", "SET HEADER"],
    "CLEAR KB / USE KB / THINK KB / KB ...":
        ["CLEAR KB", "USE KB", "THINK KB", "KB STATISTICS", "KB COLLECTION STATS",
         "KB DOCUMENTS COUNT", "KB DOCUMENTS ADDED SINCE", "KB LIST COLLECTIONS",
         "KB STORAGE SIZE"],
    "COMPRESS / EXTRACT / COPY / MOVE / READ / WRITE / LIST / DIR / DELETE FILE / UPLOAD / "
    "DOWNLOAD": ["COMPRESS", "EXTRACT", "COPY", "MOVE", "READ", "WRITE", "LIST", "DIR",
                 "DELETE FILE", "UPLOAD", "DOWNLOAD"],
    "CREATE DRAFT": ["CREATE DRAFT"],
    "CREATE SITE": ["CREATE SITE"],
    "CREATE TASK": ["CREATE TASK"],
    "DELEGATE TO BOT / BROADCAST TO BOTS / TRANSFER ...":
        ["DELEGATE", "BROADCAST", "TRANSFER CONVERSATION", "TRANSFER TO HUMAN"],
    "DELETE (table/http/file) / DELETE HTTP": ["DELETE", "DELETE HTTP"],
    "DESCRIPTION / PARAM": ["DESCRIPTION", "PARAM"],
    "FILL / FILTER / GROUP BY / JOIN / MAP / PIVOT / SORT":
        ["FILL", "FILTER", "GROUP BY", "JOIN", "MAP", "PIVOT", "SORT"],
    "FIND": ["FIND"],
    "FIRST / LAST": ["FIRST", "LAST"],
    "FORMAT": ["FORMAT"],
    "GENERATE PDF / MERGE PDF": ["GENERATE PDF", "MERGE PDF"],
    "GET": ["GET"],
    "GET BOT MEMORY / SET BOT MEMORY": ["GET BOT MEMORY", "SET BOT MEMORY"],
    "GET/SET USER MEMORY, USER FACTS, REMEMBER / RECALL":
        ["GET USER MEMORY", "SET USER MEMORY", "USER FACTS", "GET USER FACTS", "SET USER FACT",
         "REMEMBER", "RECALL"],
    "GET SESSION / SET SESSION / `SET \"session.x\"`": ["GET SESSION", "SET SESSION", "SET"],
    "GRAPHQL / SOAP": ["GRAPHQL", "SOAP"],
    "HEAR": ["HEAR"],
    "INSERT / INSERT INTO": ["INSERT"],
    "LLM (+ helpers)": ["LLM", "SUMMARIZE", "TRANSLATE", "CLASSIFY", "SENTIMENT",
                        "ANALYZE SENTIMENT", "IMPROVE TEXT", "REWRITE", "CALCULATE", "VALIDATE",
                        "SEE", "OCR", "DETECT", "GENERATE CODE", "REFLECT ON", "BOT REFLECTION"],
    "MERGE": ["MERGE"],
    "ON EMAIL / ON CHANGE / ON … OF / ON FORM SUBMIT":
        ["ON EMAIL", "ON CHANGE", "ON INSERT OF", "ON UPDATE OF", "ON DELETE OF",
         "ON FORM SUBMIT"],
    "POST / PUT / PATCH": ["POST", "PUT", "PATCH"],
    "POST TO (social)": ["POST TO", "POST TO INSTAGRAM"],
    "PRINT / LOG": ["PRINT", "LOG", "LOG INFO", "LOG WARN", "LOG ERROR", "LOG DEBUG"],
    "QR CODE / SCAN BARCODE": ["QR CODE", "SCAN BARCODE"],
    "RUN PYTHON / JAVASCRIPT / BASH": ["RUN PYTHON", "RUN JAVASCRIPT", "RUN JS", "RUN BASH"],
    "SAVE / SAVE FROM UNSTRUCTURED": ["SAVE", "SAVE FROM UNSTRUCTURED"],
    "SCRAPE … / RSS": ["SCRAPE", "SCRAPE ALL", "SCRAPE LINKS", "SCRAPE IMAGES", "SCRAPE TABLE",
                       "RSS"],
    "SEND FILE / SEND MESSAGE / SEND TO": ["SEND FILE", "SEND FILE TO", "SEND MESSAGE", "SEND TO"],
    "SEND MAIL / SEND EMAIL": ["SEND MAIL", "SEND EMAIL"],
    "SEND SMS": ["SEND SMS"],
    "SEND TEMPLATE": ["SEND TEMPLATE", "SEND TEMPLATE TO"],
    "SET (assignment / session / table forms)": ["SET"],
    "SET ANSWER MODE": ["SET ANSWER MODE"],
    "SET CONTEXT": ["SET CONTEXT"],
    "SET SCHEDULE": ["SET SCHEDULE"],
    "SET USER / USE ACCOUNT": ["SET USER", "USE ACCOUNT"],
    "TALK / TALK TO": ["TALK", "TALK TO"],
    "UPDATE": ["UPDATE"],
    "USE MCP": ["USE MCP", "MCP LIST TOOLS", "MCP INVOKE"],
    "USE MODEL / SET MODEL ROUTING": ["USE MODEL", "SET MODEL ROUTING"],
    "USE WEBSITE / CLEAR WEBSITES": ["USE WEBSITE", "CLEAR WEBSITES"],
    "WAIT": ["WAIT"],
    "WEATHER / FORECAST": ["WEATHER", "FORECAST"],
    "WEBHOOK": ["WEBHOOK"],
}
# Rows of §13 that are grammar: the parser handles them, the catalog must not declare them.
GRAMMAR_ROWS = {
    "BEGIN MAIL": ["BEGIN MAIL"],
    "BEGIN SYSTEM PROMPT": ["BEGIN SYSTEM PROMPT"],
    "BEGIN TALK": ["BEGIN TALK"],
    "CALL": ["CALL"],
    "DO … LOOP / WHILE … WEND / FOR … NEXT / FOR EACH": ["DO", "LOOP", "WHILE", "WEND", "FOR",
                                                          "NEXT", "FOR EACH"],
    "EXIT / END / RETURN": ["EXIT", "END", "RETURN", "RETURN WITH"],
    "GOTO / labels / GOSUB": ["GOTO", "GOSUB"],
    "IF / ELSE IF / ELSEIF / ELSE / END IF": ["IF", "ELSE IF", "ELSEIF", "ELSE", "END IF"],
    "ON ERROR / THROW / ASSERT / TRY": ["ON ERROR", "THROW", "ASSERT", "TRY"],
    "SELECT CASE / SWITCH": ["SELECT CASE", "SWITCH"],
    "SUB / FUNCTION": ["SUB", "FUNCTION"],
    "TABLE … END TABLE": ["TABLE", "END TABLE"],
    "WITH … END WITH": ["WITH", "END WITH"],
}
# Further grammar the brief lists (never keywords).
OTHER_GRAMMAR = ["LET", "DIM", "CASE", "DEFAULT", "BREAK", "CONTINUE", "CREATE INDEX", "END ON",
                 "EXIT FOR", "EXIT SUB", "CATCH", "END SELECT", "END SWITCH", "SELECT CASE"]


@pytest.mark.parametrize("row", sorted(INDEX))
def test_every_index_row_is_declared(registry, row):
    for phrase in INDEX[row]:
        spec_of(registry, phrase)


@pytest.mark.parametrize("phrase", sorted({p for ps in GRAMMAR_ROWS.values() for p in ps}
                                          | set(OTHER_GRAMMAR)))
def test_grammar_is_not_declared(registry, phrase):
    assert registry.keyword_spec(phrase) is None


def index_rows_of_the_spec() -> list[str]:
    text = (SPEC_DIR / "DIALECT.md").read_text(encoding="utf-8")
    section = text[text.index("## 13. Keyword index"):]
    return [line.split("|")[1].strip() for line in section.splitlines()[4:]
            if line.startswith("| ")]


@pytest.mark.skipif(not (SPEC_DIR / "DIALECT.md").exists(), reason="DIALECT.md not available")
def test_the_index_table_matches_the_spec():
    """If §13 gains a row, this table (and the catalog) must follow."""
    assert set(index_rows_of_the_spec()) == set(INDEX) | set(GRAMMAR_ROWS)


@pytest.mark.parametrize("phrase", [
    "PARAM", "DESCRIPTION", "SET SCHEDULE", "WEBHOOK", "USE WEBSITE", "ON EMAIL", "ON CHANGE",
    "ON INSERT OF", "ON UPDATE OF", "ON DELETE OF", "ON FORM SUBMIT", "GET QUEUE",
    "NEXT IN QUEUE", "ASSIGN CONVERSATION", "RESOLVE CONVERSATION", "TAG CONVERSATION",
    "SET PRIORITY", "ADD NOTE", "GET ATTENDANTS", "SET ATTENDANT STATUS", "GET ATTENDANT STATS",
    "GET CUSTOMER HISTORY", "GET SUMMARY", "GET TIPS", "POLISH MESSAGE", "GET SMART REPLIES",
    "SCORE LEAD", "AI SCORE LEAD", "GET LEAD SCORE", "QUALIFY LEAD", "UPDATE LEAD SCORE",
    "NOTIFY AGENT", "NOTIFY ATTENDANT", "SET BOT PRIORITY", "ORCHESTRATE WORKFLOW",
    "JSON PARSE", "LOG INFO", "LOG WARN", "LOG ERROR", "LOG DEBUG", "RECORD METRIC",
    "LOG ACTIVITY", "WAIT FOR EVENT", "PUBLISH EVENT", "ON EVENT", "TRIGGER", "SCHEDULE IN",
    "CACHE SET", "CACHE GET", "BOT SHARE MEMORY", "BOT SYNC MEMORY", "GET CONFIG",
    "CLEAR CONTEXT", "SET KB", "MAX", "MIN", "DATEADD", "DATEDIFF", "SELECT", "CHART",
    "SEND TEMPLATE TO", "CREATE TEMPLATE", "GET TEMPLATE", "SEND TO SESSION",
])
def test_keywords_outside_the_index_are_declared(registry, phrase):
    spec_of(registry, phrase)


# ---------------------------------------------------------------- shapes

# (phrase, shape string, accepted?) — the accepted rows are real corpus forms
# (file noted) or documented forms; the others must be rejected.
SHAPES = [
    ("TALK", "x", True),  # TALK "hi"
    ("TALK", "", False),
    ("TALK", "x,x", False),
    ("TALK TO", "x,x", True),  # broadcast: TALK TO row.mobile, msg
    ("HEAR", "x", True),  # HEAR po_number (erp/purchasing)
    ("HEAR", "x AS x", True),  # HEAR attachment AS FILE
    ("HEAR", "x AS x,x", True),  # HEAR item_code AS "done", *
    ("HEAR", "x AS MENU x,x,x,x", True),  # vectordb-statistics
    ("HEAR", "x AS x WITH x DEFAULT x", True),  # analytics/platform-overview
    ("HEAR", "x WITH x", True),  # privacy/delete-data
    ("HEAR", "AS x", True),  # x = HEAR AS INTEGER
    ("HEAR", "", True),  # searchterm = HEAR (employees/search-employee)
    ("HEAR", "x DEFAULT x WITH x", False),
    ("ASK", "x", True),  # x = ASK "prompt" (default.gbdialog)
    ("ADD SUGGESTION", "x AS x", True),  # ADD SUGGESTION "add" AS "Add a reminder"
    ("ADD SUGGESTION", "x", True),  # ADD SUGGESTION "Exit"
    ("ADD SUGGESTION", "x,x", True),
    ("ADD SUGGESTION", "", False),
    ("ADD SUGGESTION TOOL", "x AS x", True),
    ("CLEAR SUGGESTIONS", "", True),
    ("CLEAR SUGGESTIONS", "x", False),
    ("SEND FILE", "x,x", True),  # SEND FILE img, "Monthly Consumption"
    ("SEND FILE TO", "x,x,x", True),
    ("WAIT", "x", True),
    ("PARAM", "x AS x LIKE x DESCRIPTION x OPTIONAL", True),
    ("PARAM", "x AS x LIKE x DESCRIPTION x", True),
    ("PARAM", "x AS x DEFAULT x", True),
    ("PARAM", "x AS x,x,x", True),  # PARAM unit AS "celsius", "fahrenheit", ...
    ("PARAM", "x AS x ENUM x", True),
    ("PARAM", "DESCRIPTION AS x LIKE x DESCRIPTION x", True),  # PARAM description AS STRING ...
    ("PARAM", "x,x,x", True),
    ("PARAM", "AS x", False),
    ("PARAM", "", False),
    ("DESCRIPTION", "x", True),
    ("DESCRIPTION", "x,x", False),
    ("SET BOT MEMORY", "x,x", True),
    ("SET BOT MEMORY", "x AS x", True),
    ("SET BOT MEMORY", "x", False),
    ("GET BOT MEMORY", "x", True),
    ("REMEMBER", "x", True),  # REMEMBER "k" = value (crm)
    ("REMEMBER", "x,x,x", True),
    ("GET SESSION", "x,x", True),  # GET SESSION session_id, "name"
    ("SET SESSION", "x,x,x", True),
    ("SET", "x", True),  # SET "session.case_id" = new_case.id
    ("SET", "x,x", True),  # SET role, role (office/start)
    ("SET", "x,x,x", True),  # SET "gb.rob", "id=" + id, "website=" + w
    ("SET", "x,x,x,x", False),
    ("SET CONTEXT", "x AS x", True),
    ("SET CONTEXT", "x", True),
    ("SET CONTEXT", "x,x", True),
    ("LLM", "x", True),
    ("LLM", "x WITH OPTIMIZE FOR x WITH MAX COST x", True),  # content-moderation
    ("USE KB", "x", True),
    ("CLEAR KB", "", True),
    ("KB STATISTICS", "", True),
    ("USE WEBSITE", "x,x", True),  # USE_WEBSITE("https://...", "30d") (edu/start)
    ("USE WEBSITE", "x REFRESH x", True),
    ("ADD TOOL", "x", True),
    ("ADD TOOL", "x AS x", True),  # ADD_TOOL "enrollment.bas" as MCP
    ("FIND", "x", True),
    ("FIND", "x,x", True),  # FIND "products.csv", "name = ${product}"
    ("FIND", "x,x,x", True),  # FIND "t", "column", value (crm/on_transfer)
    ("FIND", "x WITH x", True),  # store-server
    ("FIND", "x WHERE x ORDER BY x DESC LIMIT x", True),
    ("FIND", "x WHERE x ORDER BY x DESC ,x", True),  # ORDER BY is_primary DESC, last_name
    ("FIND", "x WHERE x FIRST", True),  # crm/activity-tracking
    ("FIND", "WHERE x", False),
    ("FIND", "x LIMIT x WHERE x", False),
    ("SAVE", "x,x", True),
    ("SAVE", "x,x,x,x,x,x", True),  # columns named after variables
    ("SAVE", "x WITH x AS x,x AS x", True),  # store-server
    ("SAVE", "x TO x", True),  # SAVE obj TO "table" (default.gbdialog)
    ("SAVE", "", False),
    ("INSERT", "x,x", True),
    ("INSERT", "INTO x VALUES x", True),
    ("INSERT", "INTO x,x,x,x", True),  # privacy/delete-data
    ("UPDATE", "x,x,x", True),
    ("UPDATE", "x,x,x,x,x", True),  # lead-nurture, update-stage
    ("UPDATE", "x SET x,x WHERE x", True),
    ("UPDATE", "x WITH x AS x,x AS x WHERE x", True),
    ("UPDATE", "x SET x,x", False),  # no WHERE: would update every row
    ("UPDATE", "x", False),
    ("DELETE", "x,x", True),
    ("DELETE", "x", True),  # DELETE item (backup)
    ("DELETE", "FROM x WHERE x", True),
    ("DELETE", "FROM x", False),
    ("MERGE", "x WITH x BY x", True),
    ("MERGE", "x,x,x", True),
    ("MERGE", "x,x", True),  # MERGE results, nameresults (contacts)
    ("FILTER", "x,x", True),
    ("FILTER", "x WHERE x", True),
    ("AGGREGATE", "x,x,x,x", True),
    ("SORT", "x BY x ASC", True),
    ("SELECT", "x AS x,x FROM x JOIN x ON x GROUP BY x,x WHERE x", True),  # bi/bi-user
    ("SAVE FROM UNSTRUCTURED", "x,x", True),
    ("APPEND", "x,x", True),
    ("GET", "x", True),
    ("GET", "x,x", True),  # GET "config", "key" (crm)
    ("GET", "x WITH x,x", True),
    ("POST", "x,x", True),
    ("POST", "x", True),
    ("PUT", "x WITH x,x", True),
    ("SET HEADER", "x,x", True),
    ("SET HEADER", "x AS x", True),
    ("SET HEADER", "x", True),  # SET HEADER "Name" = value (default/translate)
    ("CLEAR HEADERS", "", True),
    ("GRAPHQL", "x,x,x", True),
    ("WRITE", "x,x", True),
    ("WRITE", "x TO x AS x APPEND", True),
    ("COPY", "x TO x", True),
    ("LIST", "x FILTER x RECURSIVE", True),
    ("LIST", "", False),  # FOR EACH item IN list: the parser must read `list` as a variable
    ("UPLOAD", "x TO x AS x", True),
    ("DOWNLOAD", "x AS x", True),
    ("GENERATE PDF", "x WITH TEMPLATE x DATA x", True),  # privacy, analytics
    ("GENERATE PDF", "x,x,x", True),  # document-processor
    ("SEND MAIL", "x,x,x", True),
    ("SEND MAIL", "x,x", True),  # SEND EMAIL admin, "Syncing..." (bling)
    ("SEND MAIL", "x,x,x USING x", True),
    ("SEND MAIL", "TO x,x,x", True),
    ("SEND MAIL", "x,x,x, ATTACHMENT x", True),  # analytics/custom-report
    ("SEND MAIL", "TO x SUBJECT x BODY x", True),  # crm/new_email
    ("SEND MAIL", "x", False),
    ("SEND MAIL", "x,x, BODY", False),  # `SEND MAIL to, subject, body`: body is a name
    ("CREATE DRAFT", "x,x", True),
    ("SEND TEMPLATE", "x,x,x,x", True),
    ("SEND TEMPLATE TO", "x,x", True),  # SEND TEMPLATE TO row.telefone, template_file
    ("POST TO INSTAGRAM", "x,x,x,x", True),  # marketing/poster
    ("POST TO", "x CONTENT x", True),  # quick-broadcast
    ("SET SCHEDULE", "x", True),
    ("SET SCHEDULE", "x,x", True),  # SET SCHEDULE expr, "job.bas"
    ("ON EMAIL", "x FROM x SUBJECT x", True),
    ("ON CHANGE", "x EVENTS x", True),
    ("ON INSERT OF", "x", True),
    ("ON FORM SUBMIT", "x", True),
    ("ON EVENT", "x DO", True),
    ("SCHEDULE IN", "x SECONDS DO", True),
    ("ADD BOT", "x WITH TRIGGER x", True),  # bank/start
    ("DELEGATE", "x TO BOT x TIMEOUT x", True),
    ("BROADCAST", "x TO BOTS", True),
    ("TRANSFER CONVERSATION", "TO x", True),
    ("TRANSFER TO HUMAN", "x,x,x", True),  # attendance-crm/start
    ("TRANSFER TO HUMAN", "", True),
    ("WAIT FOR RESPONSE", "AS x TIMEOUT x", True),  # crm/on_transfer
    ("CREATE TASK", "x,x,x", True),
    ("CREATE TASK", "x,x,x,x,x", True),
    ("RUN PYTHON", "WITH FILE x", True),
    ("JSON PARSE", "x", True),
    ("LOG", "x", True),
    ("RECORD METRIC", "x WITH x,x", True),
    ("ESCALATE", "TO x", True),
    ("GET ATTENDANTS", "", True),
    ("GET ATTENDANTS", "x", True),  # GET ATTENDANTS "online"
    ("GET ATTENDANTS", "WITH STATUS x", True),
    ("ADD NOTE", "x TO x", True),
    ("ADD NOTE", "x,x", True),  # attendance-crm/queue-monitor
    ("TAG CONVERSATION", "x,x", True),
    ("NOTIFY AGENT", "x WITH x", True),  # crm/on_transfer
    ("NOTIFY ATTENDANT", "x,x", True),
    ("FORMAT", "x AS x", True),
    ("FORMAT", "x,x", True),
    ("FORMAT", "x", True),
    ("FIRST", "x,x", True),
    ("LAST", "x", True),
    ("LAST", "x,x", False),
    ("MAX", "x,x", True),  # MAX actual_weight, volumetric_weight (store-server)
    ("MAX", "x", True),  # MAX(array), should the parser read it as the keyword
    ("MAX", "", False),
    ("JOIN", "x,x,x", True),  # JOIN left, right, "key"
    ("JOIN", "x,x", True),  # JOIN(arr, ", ") is the string join function
    ("DATEADD", "x,x,x", True),  # DATEADD today, "days", n (bling)
    ("DATEDIFF", "x,x", True),
]


@pytest.mark.parametrize("phrase, shape, accepted", SHAPES)
def test_shapes(registry, phrase, shape, accepted):
    assert spec_of(registry, phrase).matches(shape) is accepted


def arg(sep, expr="e"):
    return SimpleNamespace(sep=sep, expr=expr)


@pytest.mark.parametrize("phrase, items, accepted", [
    # FIND "t" WHERE a = b ORDER BY c DESC, d LIMIT 5 — a bare connector before a comma
    ("FIND", [arg(None), arg("WHERE"), arg("ORDER BY"), arg("DESC", None), arg(","),
              arg("LIMIT")], True),
    # PARAM p AS STRING LIKE "x" DESCRIPTION "d" OPTIONAL
    ("PARAM", [arg(None), arg("AS"), arg("LIKE"), arg("DESCRIPTION"), arg("OPTIONAL", None)],
     True),
    # x = HEAR AS INTEGER
    ("HEAR", [arg("AS")], True),
    # SEND MAIL to, subject, body USING account
    ("SEND MAIL", [arg(None), arg(","), arg(","), arg("USING")], True),
    # CLEAR SUGGESTIONS with an argument
    ("CLEAR SUGGESTIONS", [arg(None)], False),
])
def test_shapes_of_argument_lists(registry, phrase, items, accepted):
    """The registry's own ``shape_of`` output is what the shapes are written against."""
    assert spec_of(registry, phrase).matches(shape_of(items)) is accepted


# ---------------------------------------------------------------- names and aliases


@pytest.mark.parametrize("written, phrase", [
    ("SET_BOT_MEMORY", "SET BOT MEMORY"),
    ("get_bot_memory", "GET BOT MEMORY"),
    ("Set  Context", "SET CONTEXT"),
    ("SAVE_FROM_UNSTRUCTURED", "SAVE FROM UNSTRUCTURED"),
    ("CREATE_TASK", "CREATE TASK"),
    ("DELETE_FILE", "DELETE FILE"),
    ("GENERATE_PDF", "GENERATE PDF"),
    ("SEND_TEMPLATE_TO", "SEND TEMPLATE TO"),
    ("GROUP_BY", "GROUP BY"),
    ("QR_CODE", "QR CODE"),
    ("LOG_INFO", "LOG INFO"),
    ("LIST_TOOLS", "LIST TOOLS"),
    ("USE_KB", "USE KB"),
    # aliases: one spec under several phrases
    ("ADD_KB", "USE KB"),
    ("USE TOOL", "ADD TOOL"),
    ("USE_TOOL", "ADD TOOL"),
    ("SEND EMAIL", "SEND MAIL"),
    ("send_email", "SEND MAIL"),
    ("ADD_WEBSITE", "USE WEBSITE"),
])
def test_spellings_resolve(registry, written, phrase):
    assert registry.keyword_spec(normalize_phrase(written)).phrase == phrase
    assert registry.keyword_spec(written).phrase == phrase


@pytest.mark.parametrize("first_word, longest", [
    ("NEXT", ("NEXT", "IN", "QUEUE")),
    ("SET", ("SET", "ATTENDANT", "STATUS")),
    ("GET", ("GET", "BOT", "MEMORY")),
    ("SEND", ("SEND", "TEMPLATE", "TO")),
])
def test_longer_phrases_come_first(registry, first_word, longest):
    phrases = registry.phrases_starting_with(first_word)
    assert longest in phrases
    assert all(p[0] == first_word for p in phrases)
    assert [len(p) for p in phrases] == sorted((len(p) for p in phrases), reverse=True)


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize("phrase, value, statement", [
    ("TALK", False, True),
    ("CLEAR SUGGESTIONS", False, True),
    ("SET BOT MEMORY", False, True),
    ("PARAM", False, True),
    ("SET SCHEDULE", False, True),
    ("LOG", False, True),  # LOG(n) inside expressions stays the logarithm function
    ("PUSH", False, True),  # PUSH(a, v) as a value is the function
    ("GET BOT MEMORY", True, True),
    ("FIND", True, True),
    ("HEAR", True, True),
    ("LLM", True, True),
    ("SEND MAIL", True, True),
    ("FORMAT", True, False),
    ("FIRST", True, False),
    ("JSON PARSE", True, False),
    ("SELECT", True, False),  # never shadows SELECT CASE at a statement head
])
def test_value_and_statement_flags(registry, phrase, value, statement):
    spec = spec_of(registry, phrase)
    assert (spec.value, spec.statement) == (value, statement)


@pytest.mark.parametrize("phrase, suspends, target", [
    ("HEAR", True, True),
    ("ASK", True, False),
    ("WAIT FOR RESPONSE", True, True),
    ("TALK", False, False),
    ("WAIT", False, False),
])
def test_suspending_and_target_keywords(registry, phrase, suspends, target):
    spec = spec_of(registry, phrase)
    assert (spec.suspends, spec.target) == (suspends, target)


@pytest.mark.parametrize("phrase, status", [
    ("TALK", "core"),
    ("FORMAT", "compat"),
    ("MAX", "compat"),
    ("DATEDIFF", "compat"),
    ("SEND MESSAGE", "compat"),
    ("ORCHESTRATE WORKFLOW", "aspirational"),
    ("CACHE SET", "aspirational"),
])
def test_status(registry, phrase, status):
    assert spec_of(registry, phrase).status == status


# ---------------------------------------------------------------- the corpus


def load_keyword_heads():
    path = REPO / "scripts" / "keyword_heads.py"
    module_spec = importlib.util.spec_from_file_location("keyword_heads", path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module  # its dataclasses look themselves up there
    module_spec.loader.exec_module(module)
    return module


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason="corpus not available")
def test_every_corpus_keyword_call_fits_a_shape(registry):
    heads = load_keyword_heads()
    findings = heads.scan(CORPUS_DIR, registry)
    mismatches = [f"{s.where}: {f.key} [{f.shape}]" for s, f in findings
                  if f.kind == "keyword" and not f.ok]
    assert mismatches == []
    keywords = {f.key for _, f in findings if f.kind == "keyword"}
    assert {"TALK", "HEAR", "FIND", "SAVE", "PARAM", "SET BOT MEMORY"} <= keywords


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason="corpus not available")
def test_uncovered_heads_are_only_orchestration_and_prose(registry):
    """What the catalog leaves to the parser: STEP/BRANCH/TIMEOUT lines of the aspirational
    orchestration templates (§9.11) and prompt files that are prose, not BASIC."""
    heads = load_keyword_heads()
    findings = heads.scan(CORPUS_DIR, registry)
    uncovered = {s.file for s, f in findings if f.kind == "uncovered"}
    allowed = re.compile(r"(/ai/|prompts/|send-proposal-v0\.bas)")
    assert [name for name in sorted(uncovered) if not allowed.search(name)] == []
