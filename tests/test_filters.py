"""The filter language of the data keywords (§9.6.2): parsing filter strings, WHERE
conditions written in BASIC, in-memory evaluation, and the parameterised SQL it compiles
to — checked against a real SQLite database, which must select exactly the rows the
in-memory evaluator selects."""
from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from botbasic.interpreter import analyze_source
from botbasic.interpreter import nodes as N
from botbasic.runtime.datetimes import DateTime
from botbasic.runtime.errors import BasicError
from botbasic.runtime.services.filter_memory import Env, matches, order_rows
from botbasic.runtime.services.filter_sql import (POSTGRES, SQLITE, NotCoercible, coerce,
                                                  compile_condition, compile_order, kind_of,
                                                  quote_identifier, render)
from botbasic.runtime.services.filters import (AllOf, AnyOf, Bare, Between, Column, ColumnMap,
                                               Compare, Func, InSet, Interval, IsNull, Not,
                                               OrderKey, Query, Value, parse_assignments,
                                               parse_filter, resolve, where_query)
from botbasic.runtime.values import BasicObject

from vm_support import REGISTRY

NOW = DateTime(datetime(2025, 3, 14, 15, 9, 26))
ENV = Env(NOW)


def obj(**members) -> BasicObject:
    return BasicObject(members)


def condition(text: str):
    return parse_filter(text).condition


def eq(column: str, value, raw=None) -> Compare:
    return Compare("=", Column(column), Value(value, raw))


# ---------------------------------------------------------------- parsing filter strings


@pytest.mark.parametrize("text, expected", [
    ("status=active", Compare("=", Column("status"), Bare("active"))),
    ("status == 'open'", eq("status", "open")),
    ('status != "open"', Compare("<>", Column("status"), Value("open"))),
    ("score >= 10", Compare(">=", Column("score"), Value(10, "10"))),
    ("price < -1.5e2", Compare("<", Column("price"), Value(-150.0, "-1.5e2"))),
    ("active = TRUE", eq("active", True)),
    ("t.name = NULL", eq("name", None)),
    ("name ILIKE '%q%'", Compare("LIKE", Column("name"), Value("%q%"))),
    ("name NOT LIKE 'a*'", Not(Compare("LIKE", Column("name"), Value("a*")))),
    ("status IN ('cold', 'nurturing')", InSet(Column("status"), (Value("cold"), Value("nurturing")))),
    ("n NOT IN (1, 2)", Not(InSet(Column("n"), (Value(1, "1"), Value(2, "2"))))),
    ("x IS NULL", IsNull(Column("x"))),
    ("x is not null", IsNull(Column("x"), True)),
    ("x BETWEEN 'a' AND 'b'", Between(Column("x"), Value("a"), Value("b"))),
    ("a = 1 AND b = 2 OR c = 3",
     AnyOf((AllOf((eq("a", 1, "1"), eq("b", 2, "2"))), eq("c", 3, "3")))),
    ("a = 1, b = 2", AllOf((eq("a", 1, "1"), eq("b", 2, "2")))),
    ("NOT (a = 1 OR b = 2)", Not(AnyOf((eq("a", 1, "1"), eq("b", 2, "2"))))),
    ("code = 007", eq("code", 7, "007")),
])
def test_filter_forms(text, expected):
    assert condition(text) == expected


@pytest.mark.parametrize("text, value", [
    ("name = Big Red Ball", "Big Red Ball"),  # an interpolated ${product}
    ("name = Tom and Jerry", "Tom and Jerry"),  # AND not followed by a comparison
    ("name = Smith, John", "Smith, John"),
    ("name = Ball (red)", "Ball (red)"),
    ("name = O'Brien", "O'Brien"),
    ("name = 'O'Brien'", "O'Brien"),
    ("name = 'it''s'", "it's"),
    ("created_at = 2025-03-14 15:09:26", "2025-03-14 15:09:26"),
    ("phone = +55 21 99999", "+55 21 99999"),
    ("name = Widget(large)", "Widget(large)"),  # not a filter function: text
    ("name = 'x' extra", "'x' extra"),  # no quote can end the value: all of it is text
])
def test_unquoted_and_quoted_values_run_to_the_next_comparison(text, value):
    assert condition(text) == eq("name" if "name" in text else text.split()[0], value)


def test_trailing_order_by_and_limit():
    query = parse_filter("stage NOT IN ('won', 'lost') ORDER BY amount DESC, name LIMIT 5")
    assert query.order_by == (OrderKey("amount", True), OrderKey("name"))
    assert query.limit == 5
    assert parse_filter("a = 1 LIMIT 3").limit == 3
    assert parse_filter("ORDER BY name").order_by == (OrderKey("name"),)


@pytest.mark.parametrize("text", ["", "  ", "*"])
def test_empty_filters_match_everything(text):
    assert parse_filter(text) == Query()


def test_functions():
    assert condition("DATEDIFF(NOW(), last_contact) >= 90") == Compare(
        ">=", Func("DATEDIFF", (Func("NOW", ()), Column("last_contact"))), Value(90, "90"))
    assert condition("due = CURDATE()") == Compare("=", Column("due"), Func("CURDATE", ()))
    assert condition("d > DATE_SUB(NOW(), INTERVAL 3 DAY)").right == Func(
        "DATE_SUB", (Func("NOW", ()), Interval(Value(3, "3"), "day")))


@pytest.mark.parametrize("text, message", [
    ("'1'='1'", "needs a column"),
    ("1 = 1", "needs a column"),
    ("name", "expected an operator"),
    ("FOO(name) = 1", "unknown function FOO"),
    ("LOWER(a, b) = 1", "wrong number of arguments"),
    ("(a = 1", "missing '\\)'"),
    ("(a = 1))", "unexpected"),
    ("x IN 1", "IN needs a list"),
    ("x IS 5", "expected NULL"),
    ("= 5", "expected a column"),
    ("a =", "missing value"),
])
def test_malformed_filters(text, message):
    with pytest.raises(BasicError, match=message):
        parse_filter(text)


# ---------------------------------------------------------------- hostile text stays data


@pytest.mark.parametrize("payload", [
    "' OR '1'='1", "x' OR 1=1 --", "x'; DROP TABLE t; --", "Robert'); DROP TABLE t;--",
    "x\"; DELETE FROM t; --", "1 OR 1=1", "x; DROP TABLE t",
])
@pytest.mark.parametrize("template", ["name = '{}'", "name = {}", 'name = "{}"'])
def test_concatenated_payloads_never_widen_a_filter(template, payload):
    """Either one literal comparison of ``name`` or an error — never a tautology."""
    try:
        parsed = condition(template.format(payload))
    except BasicError:
        return
    assert isinstance(parsed, Compare) and parsed.left == Column("name")
    assert isinstance(parsed.right, Value)


def test_parse_assignments():
    assert parse_assignments("website=https://a.b/c?x=1, emulator=true, n = 5, q='a,b'") == {
        "website": "https://a.b/c?x=1", "emulator": True, "n": 5, "q": "a,b"}
    with pytest.raises(BasicError, match="column=value"):
        parse_assignments("just text")


# ---------------------------------------------------------------- WHERE written in BASIC


def where_node(text: str) -> N.Expr:
    result = analyze_source(f'x = FIND "t" WHERE {text}\n', "w.bas", REGISTRY)
    assert result.ok, [str(d) for d in result.diagnostics]
    args = result.script.body[0].value.args
    return next(a.expr for a in args if a.sep == "WHERE")


def script_value(scope: dict):
    """An evaluator of right-hand operands: names and members from ``scope``."""
    def evaluate(node):
        if isinstance(node, N.Literal):
            return node.value
        if isinstance(node, N.Name):
            return scope[node.name]
        if isinstance(node, N.Member):
            return scope[node.obj.name][node.name]
        raise AssertionError(node)
    return evaluate


def test_where_left_operands_are_columns_and_right_operands_values():
    scope = {"email": "ann@x.com", "user": {"id": 7}, "ids": [1, 2], "lo": 1, "hi": 9}
    query = where_query(where_node('email = email AND (t.owner = user.id OR name LIKE "a%")'),
                        script_value(scope))
    assert query.condition == AllOf((eq("email", "ann@x.com"), AnyOf((
        eq("owner", 7), Compare("LIKE", Column("name"), Value("a%"))))))
    assert where_query(where_node("id IN ids"), script_value(scope)).condition == \
        InSet(Column("id"), (Value(1), Value(2)))
    assert where_query(where_node("n BETWEEN lo AND hi AND NOT x IS NULL"),
                       script_value(scope)).condition == AllOf((
                           Between(Column("n"), Value(1), Value(9)), Not(IsNull(Column("x")))))


def test_where_with_a_string_is_a_filter_string():
    assert where_query(where_node("f"), script_value({"f": "a = 1"})).condition == eq("a", 1, "1")


def test_where_needs_a_column_on_the_left():
    with pytest.raises(BasicError, match="must be a column"):
        where_query(where_node('"x" = name'), script_value({}))


# ---------------------------------------------------------------- resolving bare words


def test_bare_words_name_known_columns_else_text():
    columns = ColumnMap([("status", "text"), ("Active", "boolean")])
    assert resolve(condition("status = active"), columns) == Compare(
        "=", Column("status"), Column("active"))
    assert resolve(condition("status = open"), columns) == eq("status", "open")
    with pytest.raises(BasicError, match="unknown column 'nope'"):
        resolve(condition("nope = 1"), columns, strict=True)
    with pytest.raises(BasicError, match="no column named 'foo'"):
        resolve(condition("1 = foo"), columns)


# ---------------------------------------------------------------- in-memory evaluation

ROWS = [
    obj(id="1", name="Ann", score=10, status="open", city=None, joined="2025-03-01"),
    obj(id="2", name="bob", score="25", status="closed", city="Rio", joined="2024-12-31"),
    obj(id="3", name="Cid", score=5.5, status=None, city="", joined=None),
]


def selected(text: str, env: Env = ENV) -> list[str]:
    cond = resolve(condition(text), ColumnMap((k, "text") for k in ROWS[0]))
    return [row["id"] for row in ROWS if matches(cond, row, env)]


@pytest.mark.parametrize("text, ids", [
    ("score > 8", ["1", "2"]),  # "25" is a number too (§3.2)
    ("score = '25'", ["2"]),
    ("status <> 'open'", ["2", "3"]),  # NULL is not 'open'
    ("status = NULL", ["3"]),
    ("city IS NULL", ["1", "3"]),  # "" is NULL (§4.5)
    ("city IS NOT NULL", ["2"]),
    ("city < 'Z'", ["2"]),  # missing values never satisfy an ordering
    ("name LIKE 'a%'", ["1"]),  # LIKE ignores case
    ("name LIKE '_o*'", ["2"]),
    ("name = 'ann'", []),  # = does not, outside file tables
    ("status IN ('open', 'closed') AND NOT score < 20", ["2"]),
    ("status NOT IN ('open')", ["2", "3"]),
    ("score BETWEEN 5 AND 10", ["1", "3"]),
    ("joined >= '2025-01-01'", ["1"]),
    ("LOWER(name) = 'bob' OR UPPER(name) = 'CID'", ["2", "3"]),
    ("DATEDIFF(joined, NOW()) >= 13", ["1", "2"]),  # b - a, as the BASIC function
    ("joined > DATE_SUB(NOW(), INTERVAL 1 MONTH)", ["1"]),
    ("COALESCE(city, 'none') = 'none'", ["1", "3"]),
    ("DATE(joined) = DATE('2025-03-01 10:00')", ["1"]),
])
def test_memory_evaluation(text, ids):
    assert selected(text) == ids


def test_file_tables_ignore_case():
    assert selected("name = 'ann'", Env(NOW, fold_case=True)) == ["1"]
    assert selected("name > 'b'", Env(NOW, fold_case=True)) == ["2", "3"]


def test_order_rows_puts_nulls_first_ascending():
    ordered = order_rows(ROWS, [OrderKey("city")])
    assert [r["id"] for r in ordered] == ["1", "3", "2"]
    assert [r["id"] for r in order_rows(ROWS, [OrderKey("score", True)])] == ["2", "1", "3"]


# ---------------------------------------------------------------- coercion and SQL text


@pytest.mark.parametrize("declared, kind", [
    ("VARCHAR(50)", "text"), ("character varying", "text"), ("uuid", "text"),
    ("INTEGER", "integer"), ("bigint", "integer"), ("NUMERIC", "decimal"),
    ("DECIMAL(10,2)", "decimal"), ("double precision", "float"), ("BOOLEAN", "boolean"),
    ("timestamp without time zone", "datetime"), ("DATE", "date"), ("interval", "text"),
])
def test_kind_of(declared, kind):
    assert kind_of(declared) == kind


def test_coerce():
    assert coerce(NOW, "text") == "2025-03-14T15:09:26"
    assert coerce([1, {"a": True}], "text") == '[1,{"a":true}]'
    assert coerce(" 42 ", "integer") == 42 and coerce(2.6, "integer") == 3
    assert coerce("yes", "boolean") is True and coerce("", "boolean") is None
    assert coerce("2025-01-02", "date").isoformat() == "2025-01-02"
    for value, kind in (("abc", "decimal"), ("maybe", "boolean"), ("soon", "datetime")):
        with pytest.raises(NotCoercible):
            coerce(value, kind)


def test_identifiers_are_validated():
    assert quote_identifier("Descrição_1") == '"Descrição_1"'
    for bad in ('a"b', "a b", "1a", "a;--", "", "x" * 64):
        with pytest.raises(BasicError):
            quote_identifier(bad)


COLUMNS = ColumnMap([("name", "text"), ("score", "decimal"), ("active", "boolean"),
                     ("joined", "datetime")])


def compiled(text: str, dialect=SQLITE):
    cond = resolve(condition(text), COLUMNS)
    where, residual = compile_condition(cond, COLUMNS, dialect, lambda v, k: v, ENV)
    sql, params = render([where], dialect)
    return sql, params, residual


def test_sql_is_parameterised():
    sql, params, residual = compiled("name = 'x''; DROP TABLE t' AND score > 3")
    assert "DROP" not in sql and residual is None
    assert params == ["x'; DROP TABLE t", 3]
    assert sql.count("?") == 2
    pg_sql, _, _ = compiled("name = 'a' OR score IN (1, 2)", POSTGRES)
    assert "$1" in pg_sql and "$3" in pg_sql and "?" not in pg_sql


def test_what_sql_cannot_compare_like_basic_is_left_to_memory():
    sql, params, residual = compiled("active = TRUE AND DATEDIFF(joined, NOW()) > 3")
    assert residual == Compare(">", Func("DATEDIFF", (Column("joined"), Func("NOW", ()))),
                               Value(3, "3"))
    assert params == [True]
    _, _, residual = compiled("score = 'many'")
    assert residual is not None  # not a number: §3.2 compares the texts, in memory
    _, _, residual = compiled("name > 5")
    assert residual is not None  # text column ordered against a number


def test_unknown_columns_are_errors_in_sql():
    with pytest.raises(BasicError, match="unknown column 'nope'"):
        compiled("nope = 1")
    with pytest.raises(BasicError, match="unknown column"):
        compile_order([OrderKey("missing")], COLUMNS, SQLITE)
    assert compile_order([OrderKey("Name", True)], COLUMNS, POSTGRES) == \
        'ORDER BY "name" COLLATE "C" DESC NULLS LAST'


# ---------------------------------------------------------------- SQL and memory agree

TABLE_ROWS = [
    {"name": "Ann", "score": 10, "active": 1, "joined": "2025-03-01 10:00:00"},
    {"name": "bob", "score": 25.5, "active": 0, "joined": "2024-12-31 23:59:00"},
    {"name": "Cid", "score": None, "active": None, "joined": None},
    {"name": "", "score": 0, "active": 1, "joined": "2025-03-14 15:09:26"},
    {"name": None, "score": -3, "active": 0, "joined": "2023-01-01 00:00:00"},
]

AGREEING_FILTERS = [
    "name = 'Ann'", "name <> 'Ann'", "name = ''", "name = NULL", "name IS NULL",
    "name IS NOT NULL", "name LIKE '%b%'", "name LIKE 'a*'", "name NOT LIKE 'a%'",
    "name IN ('Ann', 'Cid')", "name NOT IN ('Ann', '')", "score > 5", "score <= 0",
    "score BETWEEN 0 AND 10", "score = '10'", "score <> 10", "score IS NULL",
    "active = TRUE", "active = 'false'", "active <> TRUE", "joined >= '2025-01-01'",
    "joined < NOW()", "joined = '2025-03-14 15:09:26'", "NOT (score > 5 OR name = 'Cid')",
    "(name = 'Ann' OR score < 0) AND active = FALSE", "LOWER(name) = 'ann'",
    "UPPER(name) LIKE 'B%'", "score > 0 AND name > 'B'", "score = 'many'",
]


@pytest.fixture(scope="module")
def sqlite_table():
    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE t ("name" TEXT, "score" NUMERIC, "active" BOOLEAN, "joined" TIMESTAMP)')
    db.executemany("INSERT INTO t VALUES (:name, :score, :active, :joined)", TABLE_ROWS)
    yield db
    db.close()


def _as_basic(row: dict) -> BasicObject:
    joined = row["joined"]
    active = row["active"]
    return obj(name=row["name"], score=row["score"],
                       active=None if active is None else bool(active),
                       joined=None if joined is None else DateTime(datetime.fromisoformat(joined)))


def _sqlite_adapt(value, kind):
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return int(value) if type(value) is bool else value


@pytest.mark.parametrize("text", AGREEING_FILTERS)
def test_sqlite_selects_what_memory_selects(sqlite_table, text):
    cond = resolve(condition(text), COLUMNS)
    where, residual = compile_condition(cond, COLUMNS, SQLITE, _sqlite_adapt, ENV)
    sql, params = render([where], SQLITE)
    records = sqlite_table.execute(f"SELECT rowid, * FROM t WHERE {sql}", params).fetchall()
    by_sql = [rowid for rowid, *_ in records
              if residual is None or matches(residual, _as_basic(TABLE_ROWS[rowid - 1]), ENV)]
    in_memory = [i + 1 for i, row in enumerate(TABLE_ROWS) if matches(cond, _as_basic(row), ENV)]
    assert by_sql == in_memory
