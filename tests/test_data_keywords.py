"""Data keywords (§9.6) run as BASIC scripts on real tables: SQLite, PostgreSQL (at
$DATABASE_URL_TEST; unreachable fails) and CSV files — FIND, SAVE, INSERT, UPDATE, DELETE,
MERGE, AGGREGATE, TABLE definitions and access control, file tables, the in-memory
collection keywords, and what hostile values in filters can and cannot do."""
from __future__ import annotations

import asyncio
import json

import openpyxl
import pytest

from botbasic.keywords.calls import ArgValue, KeywordCall
from botbasic.keywords.data import set_table
from botbasic.runtime.services.drive import Drive

from data_support import ALL_KINDS, SQL_KINDS, world_test
from vm_support import says

PEOPLE = '''
SAVE "people", #{id: "p1", name: "Ann", email: "ann@x.com", score: 10, vip: TRUE, city: "Rio"}
SAVE "people", #{id: "p2", name: "Bob", email: "bob@x.com", score: 25, vip: FALSE, city: "Oslo"}
SAVE "people", #{id: "p3", name: "Cid", email: "cid@x.com", score: 5, vip: FALSE}
'''


def each_kind(kinds=ALL_KINDS):
    return pytest.mark.parametrize("kind", kinds)


def scenario(kind, tmp_path, body):
    world_test(kind, tmp_path, body)


# ---------------------------------------------------------------- FIND


@each_kind()
def test_find_forms(kind, tmp_path):
    async def body(w):
        await w.says(PEOPLE)
        assert await w.says('''
f1 = FIND "people"
TALK UBOUND(f1)
f2 = FIND "people", "score > 8"
TALK UBOUND(f2)
f3 = FIND "people" WITH "vip = true"
TALK UBOUND(f3)
f4 = FIND "people", "email", "bob@x.com"
TALK f4.name
f5 = FIND ".people", "city IS NULL"
TALK UBOUND(f5)
f6 = FIND "people", "*"
TALK UBOUND(f6)
rows = FIND "people", "city = Rio OR score < 6 ORDER BY score DESC"
TALK rows[0].name + rows[1].name
f7 = FIND "people", "score >= 5 ORDER BY name LIMIT 2"
TALK UBOUND(f7)
''') == ["3", "2", "1", "Bob", "1", "3", "AnnCid", "2"]
    scenario(kind, tmp_path, body)


@each_kind()
def test_find_where_compares_columns_with_script_values(kind, tmp_path):
    async def body(w):
        await w.says(PEOPLE)
        assert await w.says('''
email = "bob@x.com"
user = #{id: "p1"}
f8 = FIND "people" WHERE email = email
TALK f8.name
f9 = FIND "people" WHERE id = user.id
TALK f9.name
limit = 8
names = ""
FOR EACH p IN FIND "people" WHERE score > limit AND NOT vip = TRUE OR name LIKE "c%" ORDER BY name
  names = names + p.name
NEXT
TALK names
wanted = ["p1", "p3"]
f10 = FIND "people" WHERE id IN wanted
TALK UBOUND(f10)
f11 = FIND "people" WHERE id NOT IN ("p1") AND score BETWEEN 1 AND 20
TALK UBOUND(f11)
f12 = FIND "people" WHERE city IS NULL
TALK UBOUND(f12)
f13 = FIND "people" WHERE email CONTAINS "X.CO"
TALK UBOUND(f13)
filter = "score < 20"
f14 = FIND "people" WHERE filter
TALK UBOUND(f14)
''') == ["Bob", "Ann", "BobCid", "2", "1", "1", "3", "2"]
    scenario(kind, tmp_path, body)


@each_kind()
def test_find_clauses_and_rowsets(kind, tmp_path):
    async def body(w):
        await w.says(PEOPLE)
        assert await w.says('''
top = FIND "people" WHERE score > 0 ORDER BY vip DESC, score LIMIT 2
TALK top[0].name & " " & top[1].name & " " & UBOUND(top)
first = FIND "people" WHERE score > 7 ORDER BY score DESC FIRST
TALK first.name
none = FIND "people" WHERE score > 100 FIRST
TALK ISNULL(none)
empty = FIND "people", "score > 100"
IF empty IS NULL AND NOT empty THEN TALK "empty"
rows = FIND "people", "name = 'Ann'"
TALK rows.email
one = FIND ONE "people" WHERE score < 20 ORDER BY score
TALK one.name
f15 = FIND ALL "people"
TALK UBOUND(f15)
''') == ["Ann Cid 2", "Bob", "true", "empty", "ann@x.com", "Cid", "3"]
    scenario(kind, tmp_path, body)


@each_kind()
def test_find_errors_and_row_limit(kind, tmp_path):
    async def body(w):
        error = await w.error('x = FIND "missing_table"')
        assert "not found" in error
        trapped = await w.says('ON ERROR RESUME NEXT\nx = FIND "missing_table"\n'
                               'TALK ERROR & " " & ERR_DESCRIPTION()')
        assert trapped[0].startswith("true table 'missing_table") and "not found" in trapped[0]
        await w.says('FOR i = 1 TO 12\n  SAVE "nums", #{n: i}\nNEXT')
        w.config.set("find-max-rows", "5")
        assert await w.says('a = FIND "nums"\nb = FIND "nums" WHERE n > 0 LIMIT 7\n'
                            'TALK UBOUND(a)\nTALK UBOUND(b)') == ["5", "7"]
        assert "unknown column" in await w.error('x = FIND "nums", "nope = 1"')
    scenario(kind, tmp_path, body)


# ---------------------------------------------------------------- SAVE and INSERT


@each_kind()
def test_save_rules(kind, tmp_path):
    async def body(w):
        assert await w.says('''
r = SAVE "orders", #{id: "o1", item: "pen", qty: 2}
TALK r.command & " " & r.table & " " & r.id & " " & r.rows_affected & " " & r.success
r = SAVE "orders", [#{id: "o2", item: "ink"}, #{id: "o3", item: "pad", qty: 7}]
TALK r.rows_affected
r = SAVE "orders", "o1", #{qty: 5}
TALK r.id & " " & r.rows_affected
SAVE "orders", "o9", #{item: "new"}
item = #{alternateId: "A-1"}
id = "o4"
qty = 3
SAVE "orders", id, qty, item.alternateId
obj = #{item: "cup"}
SAVE "orders" WITH id AS "o5", item AS obj.item, qty AS qty * 2
order = #{id: "o6", item: "mug"}
SAVE order TO "orders"
FOR EACH o IN FIND "orders" ORDER BY id
  TALK o.id + ":" + o.item + ":" + o.qty + ":" + o.alternateId
NEXT
''') == ["save orders o1 1 true", "2", "o1 1",
         "o1:pen:5:", "o2:ink::", "o3:pad:7:", "o4::3:A-1", "o5:cup:6:", "o6:mug::", "o9:new::"]
    scenario(kind, tmp_path, body)


@each_kind(SQL_KINDS)
def test_saved_values_come_back_typed_and_columns_grow(kind, tmp_path):
    async def body(w):
        assert await w.says('''
SAVE "events", #{name: "a", n: 1.5, ok: TRUE, at: NOW(), tags: ["x", "y"]}
SAVE "events", #{name: "b", n: 2, extra: "new column"}
e = FIND "events", "name = 'a'" FIRST
TALK TYPEOF(e.n) & " " & TYPEOF(e.ok) & " " & TYPEOF(e.at) & " " & e.at & " " & e.tags[1]
e = FIND "events" WHERE extra = "new column" FIRST
TALK e.n & " " & TYPEOF(e.n) & " " & e.name & " " & ISNULL(e.ok) & " " & LEN(e.id)
f16 = FIND "events", "at < NOW()"
f17 = FIND "events", "at = '2025-03-14 15:09:26'"
TALK UBOUND(f16) & UBOUND(f17)
''') == ["float boolean datetime 2025-03-14 15:09:26 y", "2 integer b true 36", "01"]
        error = await w.error('SAVE "events", #{n: "not a number"}')
        assert "cannot hold 'not a number'" in error
    scenario(kind, tmp_path, body)


def test_file_tables_keep_text_and_add_columns(tmp_path):
    async def body(w):
        assert await w.says('''
SAVE "log.csv", #{when: NOW(), n: 1, ok: TRUE, data: #{a: 1}}
SAVE "log.csv", #{n: 2, note: "x, \\"y\\""}
FOR EACH r IN FIND "log.csv"
  TALK TYPEOF(r.n) + "|" + r.when + "|" + r.ok + "|" + r.data.a + "|" + r.note
NEXT
''') == ["string|2025-03-14T15:09:26|true|1|", "string||||x, \"y\""]
        text = (w.data_dir / "log.csv").read_text()
        assert text.splitlines()[0] == "when,n,ok,data,note"
    scenario("files", tmp_path, body)


@each_kind(SQL_KINDS)
def test_auto_create_can_be_turned_off(kind, tmp_path):
    async def body(w):
        w.config.set("auto-create-tables", "false")
        assert "does not exist" in await w.error('SAVE "nothere", #{a: 1}')
    scenario(kind, tmp_path, body)


@each_kind()
def test_insert_forms(kind, tmp_path):
    async def body(w):
        assert await w.says('''
r = INSERT "items", #{name: "a"}
TALK r.command & " " & r.success & " " & (LEN(r.id) > 0 OR "{{kind}}" = "files")
INSERT INTO "items" VALUES #{
    id: "i2",
    name: "b"
}
name = "c"
price = 9
INSERT INTO "items", name, price
f18 = FIND "items"
f19 = FIND "items", "name = 'c'"
TALK UBOUND(f18) & " " & f19.price
'''.replace("{{kind}}", kind)) == ["insert true true", "3 9"]
    scenario(kind, tmp_path, body)


# ---------------------------------------------------------------- UPDATE, DELETE, SET


@each_kind()
def test_update_forms(kind, tmp_path):
    async def body(w):
        await w.says(PEOPLE)
        assert await w.says('''
n = UPDATE "people", "score < 20", #{city: "Lima"}
TALK n
n = UPDATE "people", "p2", #{score: 30}
TALK n
UPDATE "people", "p3", "email", "c@y.com"
status = "gold"
score = 99
n = UPDATE "people", "name = 'Ann'", status, score
TALK n
pid = "p2"
UPDATE "people" SET city = "Rome", score = score + 1 WHERE id = pid
UPDATE "people" WITH note AS "hi", vip AS TRUE WHERE name = "Cid"
n = UPDATE "people", "nobody", #{score: 1}
TALK n
FOR EACH p IN FIND "people" ORDER BY id
  TALK p.id & " " & p.city & " " & p.score & " " & p.email & " " & p.status & " " & p.note & " " & p.vip
NEXT
''') == ["2", "1", "1", "0",
         "p1 Lima 99 ann@x.com gold  true", "p2 Rome 100 bob@x.com   false",
         "p3 Lima 5 c@y.com  hi true"]
    scenario(kind, tmp_path, body)


@each_kind()
def test_delete_forms(kind, tmp_path):
    async def body(w):
        await w.says(PEOPLE)
        assert await w.says('''
n = DELETE "people", "score > 20"
TALK n
name = "Cid"
DELETE FROM "people" WHERE name = name
f20 = FIND "people"
TALK UBOUND(f20)
''') == ["1", "1"]
        assert "filter is required" in await w.error('DELETE "people", ""')
        # UPDATE's second argument without an operator is an id: "" changes nothing.
        assert await w.says('n = UPDATE "people", "", #{a: 1}\nTALK n') == ["0"]
        assert await w.says('n = DELETE "people", "*"\nTALK n\nr = FIND "people"\nTALK UBOUND(r)') \
            == ["1", "0"]
    scenario(kind, tmp_path, body)


def test_delete_of_files_and_urls_goes_to_their_keywords(tmp_path):
    drive_dir = tmp_path / "drive"
    drive_dir.mkdir()
    (drive_dir / "old.txt").write_text("x")

    async def body(w):
        services = w.services(drive=Drive(drive_dir))
        assert await w.says('a = DELETE "old.txt"\nb = DELETE "old.txt"\nTALK a\nTALK b', services=services) \
            == ["true", "false"]
        assert not (drive_dir / "old.txt").exists()
        assert "not available" in await w.error('x = DELETE "https://example.com/x"')
    scenario("sqlite", tmp_path, body)


@each_kind()
def test_set_table_form(kind, tmp_path):
    """The legacy ``SET "t", "filter", "a=b"`` through the function SET hands it to."""
    async def body(w):
        await w.says(PEOPLE)
        transcript = await w.run('TALK 1')
        call = KeywordCall(None, [ArgValue(None, "people"), ArgValue(",", "id=p1"),
                                  ArgValue(",", "city=Paris, score=11")], 1, "main.bas")
        assert await set_table(transcript.ctx, call) == 1
        assert await w.says('p = FIND "people", "id=p1"\nTALK p.city + p.score') == ["Paris11"]
    scenario(kind, tmp_path, body)


# ---------------------------------------------------------------- MERGE and AGGREGATE


@each_kind()
def test_merge(kind, tmp_path):
    async def body(w):
        await w.says(PEOPLE)
        assert await w.says('''
data = [#{email: "ann@x.com", score: 11}, #{email: "dan@x.com", name: "Dan"}, #{name: "nokey"}]
r = MERGE "people", data, "email"
TALK r.inserted & " " & r.updated & " " & r.table & " " & r.key_field
list = #{items: [#{Id: 7, nome: "x"}, #{Id: 8, nome: "y"}]}
r = MERGE ".Produtos" WITH list.items BY "Id"
list = #{items: [#{Id: 7, nome: "z"}]}
r = MERGE ".Produtos" With list.items BY "Id"
f21 = FIND ".Produtos", "Id = 7"
TALK r.inserted & " " & r.updated & " " & f21.nome
f22 = FIND "people"
f23 = FIND "people", "email = 'ann@x.com'"
TALK f23.score & " " & UBOUND(f22)
''') == ["1 1 people email", "0 1 z", "11 4"]
    scenario(kind, tmp_path, body)


def test_merge_of_two_result_sets():
    assert says('''
a = [#{id: 1}, #{id: 2}]
results = MERGE a, [#{id: 2}, #{id: 3}]
results = MERGE results, []
TALK UBOUND(results) & " " & results.id
''') == ["3 1"]


@each_kind()
def test_aggregate_over_tables_and_arrays(kind, tmp_path):
    async def body(w):
        await w.says(PEOPLE)
        assert await w.says('''
n = AGGREGATE "people", "COUNT", "email"
TALK n
n = AGGREGATE "people", "SUM", "score", "vip = false"
TALK n
n = AGGREGATE "people", "AVG", "score"
TALK n
n = AGGREGATE "people", "MAX", "score", "score < " + 20
TALK n
sales = [#{amount: 10}, #{amount: "5"}, #{amount: NULL}, #{amount: "n/a"}]
n = AGGREGATE "SUM", sales, "amount"
TALK n
n = AGGREGATE "AVERAGE", sales, "amount"
TALK n
n = AGGREGATE "COUNT", sales, "amount"
TALK n
n = AGGREGATE "MIN", sales, "amount"
TALK n
none = []
biggest = AGGREGATE "MAX", none, "amount"
total = AGGREGATE "SUM", none, "amount"
TALK ISNULL(biggest) & " " & total
''') == ["3", "30", "13.333333333333334", "10", "15", "7.5", "3", "5", "true 0"]
        assert "unknown operation" in await w.error('x = AGGREGATE "people", "MEDIAN", "score"')
        assert "not found" in await w.error('x = AGGREGATE "MEDIAN", "people", "score"')
    scenario(kind, tmp_path, body)


# ---------------------------------------------------------------- TABLE definitions and access


TABLES = '''
TABLE Contatos
    Id number key
    Nome string(150)
    Limite double(10,2)
    Nascimento date
    Ativo boolean
END TABLE

TABLE secrets READ BY "admin;auditor" WRITE BY "admin"
    id string(36) key
    note text
END TABLE

TABLE leads
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4()
    company VARCHAR(100) NOT NULL
    stage VARCHAR(20) DEFAULT 'new'
    score INTEGER DEFAULT 0
    created_at TIMESTAMP DEFAULT NOW()
END TABLE
'''


@each_kind(SQL_KINDS)
def test_table_definitions(kind, tmp_path):
    async def body(w):
        await w.apply_tables(TABLES)
        assert await w.says('''
r = INSERT "Contatos", #{Nome: "Ana", Limite: "12.5", Nascimento: "1990-05-01", Ativo: "true"}
c = FIND "contatos" WHERE Id = r.id FIRST
TALK r.id & " " & c.Nome & " " & c.Limite & " " & TYPEOF(c.Nascimento) & " " & c.Nascimento & " " & c.Ativo
SAVE "Contatos", 2, "second"
c = FIND "Contatos", "Id = 2"
TALK c.Nome
l = INSERT "leads", #{company: "ACME"}
lead = FIND "leads", "company = 'ACME'" FIRST
TALK LEN(l.id) & " " & lead.stage & " " & lead.score & " " & TYPEOF(lead.created_at)
''') == ["1 Ana 12.5 datetime 1990-05-01 true", "second", "36 new 0 datetime"]
        assert "null" in (await w.error('INSERT "leads", #{stage: "x"}')).lower()
        # Migrations only add: a new field appears, existing rows stay.
        await w.apply_tables(TABLES.replace("    Ativo boolean", "    Ativo boolean\n    Email string"))
        assert await w.says('UPDATE "Contatos", "Id = 1", #{Email: "a@b.c"}\n'
                            'c = FIND "Contatos", "Id = 1"\nTALK c.Email') == ["a@b.c"]
    scenario(kind, tmp_path, body)


COUNT_SECRETS = 'r = FIND "secrets"\nTALK UBOUND(r)'


@each_kind(SQL_KINDS)
def test_read_by_and_write_by(kind, tmp_path):
    async def body(w):
        await w.apply_tables(TABLES)
        admin, auditor = {"roles": "admin"}, {"role": ["Auditor"]}
        await w.says('SAVE "secrets", #{id: "s1", note: "x"}', user=admin)
        assert await w.says(COUNT_SECRETS, user=auditor) == ["1"]
        assert "access denied" in await w.error('SAVE "secrets", #{id: "s2"}', user=auditor)
        assert "access denied" in await w.error('x = FIND "secrets"', user={"roles": "sales"})
        assert "access denied" in await w.error('x = FIND ".Secrets"')
        assert await w.says(COUNT_SECRETS, interactive=False) == ["1"]
        assert await w.says('r = FIND "contatos"\nTALK UBOUND(r)') == ["0"]  # no roles declared
    scenario(kind, tmp_path, body)


# ---------------------------------------------------------------- file tables


def test_csv_file_tables_from_the_data_folder(tmp_path):
    async def body(w):
        (w.data_dir / "products.csv").write_text(
            "name,price,category\nBig Red Ball,12.5,Toys\nPen,2,Office\n", encoding="utf-8")
        (w.data_dir / "tickets.tsv").write_text("id\tstatus\n1\tOpen\n2\tclosed\n")
        assert await w.says('''
product = "Big Red Ball"
productRecord = FIND "products.csv", "name = ${product}"
TALK productRecord.price & " " & TYPEOF(productRecord.price)
f24 = FIND "products.csv", "price > 5"
f25 = FIND "products.csv", "category = toys"
TALK UBOUND(f24) & " " & UBOUND(f25)
f26 = FIND "products", "price < 5"
TALK UBOUND(f26)
f27 = FIND "tickets.tsv", "status = 'open'"
TALK UBOUND(f27)
n = UPDATE "products.csv", "name = Pen", #{price: 3, stock: 10}
TALK n
n = DELETE "tickets.tsv", "status = CLOSED"
TALK n
p = FIND "products.csv", "name = 'pen'" FIRST
TALK p.price & " " & p.stock
''') == ["12.5 string", "1 1", "1", "1", "1", "1", "3 10"]
        assert (w.data_dir / "products.csv").read_text().splitlines() == [
            "name,price,category,stock", "Big Red Ball,12.5,Toys,", "Pen,3,Office,10"]
        assert "invalid file table name" in await w.error('x = FIND "../secret.csv"')
        assert "not found" in await w.error('x = FIND "nothere.csv"')
        assert "not available" in await w.error('SAVE "old.xls", #{a: 1}')
    scenario("sqlite", tmp_path, body)


def test_json_and_xlsx_file_tables(tmp_path):
    async def body(w):
        assert await w.says('''
SAVE "people.json", [#{id: 1, name: "Ann", tags: ["a"]}, #{id: 2, name: "Bob", vip: TRUE}]
MERGE "people.json", [#{id: 2, name: "Bobby"}, #{id: 3, name: "Cy"}], "id"
f28 = FIND "people.json", "vip = true"
f29 = FIND "people.json", "id = 2"
TALK UBOUND(f28) + f29.name
SAVE "People.xlsx", #{id: "m1", name: "Ann", born: DATEVALUE("1990-05-01"), n: 3}
SAVE "People.xlsx", #{id: "m2", name: "Bob", n: 4.5}
mobile = "m1"
p = FIND "People.xlsx", "id=" + mobile
TALK p.name & " " & TYPEOF(p.n) & " " & TYPEOF(p.born) & " " & p.born
all = FIND "People.xlsx"
n = AGGREGATE "SUM", all, "n"
TALK n
''') == ["1Bobby", "Ann integer datetime 1990-05-01", "7.5"]
        data = json.loads((w.data_dir / "people.json").read_text())
        assert [row["name"] for row in data] == ["Ann", "Bobby", "Cy"] and data[0]["tags"] == ["a"]
        sheet = openpyxl.load_workbook(w.data_dir / "People.xlsx").active
        assert [c.value for c in sheet[1]] == ["id", "name", "born", "n"]
    scenario("files", tmp_path, body)


# ---------------------------------------------------------------- hostile values


HOSTILE = ["' OR '1'='1", "x' OR 1=1 --", "'; DROP TABLE other; --", "Robert'); DROP TABLE other;--",
           "\"; DELETE FROM victims; --", "1 OR 1=1", "x; DELETE FROM victims"]


@each_kind(SQL_KINDS)
def test_hostile_values_never_touch_other_rows_or_tables(kind, tmp_path):
    async def body(w):
        await w.says('SAVE "victims", #{id: "v1", name: "alice", flag: 0}\n'
                     'SAVE "victims", #{id: "v2", name: "bob", flag: 0}\n'
                     'SAVE "other", #{id: "o1", secret: "keep"}')
        for payload in HOSTILE:
            p = json.dumps(payload)  # a BASIC string literal holding the payload
            script = f'''
ON ERROR RESUME NEXT
p = {p}
found = 0
rows = FIND "victims", "name = '" + p + "'"
found = found + UBOUND(rows)
rows = FIND "victims", "name = " + p
found = found + UBOUND(rows)
rows = FIND "victims" WHERE name = p OR id = p
found = found + UBOUND(rows)
n = UPDATE "victims", "name = '" + p + "'", #{{flag: 1}}
n = DELETE "victims", "name = " + p
n = UPDATE "victims" SET flag = 2 WHERE name = p
n = DELETE FROM "victims" WHERE name = p
SAVE "victims", #{{id: "x", name: p}}
TALK found
'''
            transcript = await w.run(script)
            assert transcript.error is None and transcript.messages == ["0"], (payload, transcript.messages)
            assert await w.says('r = FIND "victims", "id = x"\nTALK r.name') == [payload]
            await w.says('n = DELETE "victims", "id = x"')
        assert await w.says('''
FOR EACH v IN FIND "victims" ORDER BY id
  TALK v.id + v.name + v.flag
NEXT
f30 = FIND "other"
TALK f30.secret
''') == ["v1alice0", "v2bob0", "keep"]
        for bad in ('x = FIND "victims; DROP TABLE other"', 'x = FIND "victims", "name; DROP TABLE other = 1"',
                    'o = #{}\no["bad; DROP TABLE other; --"] = 1\nSAVE "victims", o',
                    'x = FIND "victims" ORDER BY "id; DROP TABLE other"'):
            await w.error(bad.replace("`", '"'))  # refused: names are never SQL
        assert await w.says('o = FIND "other"\nv = FIND "victims"\nTALK o.secret + UBOUND(v)') \
            == ["keep2"]
    scenario(kind, tmp_path, body)


# ---------------------------------------------------------------- the same answers everywhere


CROSS_FILTERS = [
    "score > 8", "vip = true", "city IS NULL", "name LIKE '%i%'", "city <> 'Rio'",
    "score BETWEEN 5 AND 10 AND NOT vip = true", "name IN ('Ann', 'Cid') OR score >= 25",
    "DATEDIFF(NOW(), joined) < 0", "joined > DATE_SUB(NOW(), INTERVAL 10 DAY)",
    "LOWER(name) = 'bob'", "COALESCE(city, 'none') = 'none'",
]


def test_back_ends_agree(tmp_path):
    """Every filter selects the same ids on SQLite, PostgreSQL and a CSV file."""
    results = {}
    script = PEOPLE.replace("}", ", joined: DATEADD(NOW(), -2, \"day\")}", 1) + "\n" + \
        "\n".join(f'r = FIND "people", "{f} ORDER BY id"\nTALK JOIN(MAP(r, "id"), "")'
                  for f in CROSS_FILTERS)
    for kind in ALL_KINDS:
        async def body(w):
            results[kind] = await w.says(script)
        scenario(kind, tmp_path / kind, body)
    assert results["sqlite"] == results["postgres"] == results["files"]
    assert results["sqlite"][:3] == ["p1p2", "p1", "p3"]


# ---------------------------------------------------------------- collections in memory


def test_filter_keyword():
    assert says('''
sales = [#{id: 1, amount: 500, rep: "ann"}, #{id: 2, amount: "1500", rep: "bob"}, #{id: 3, amount: 2000, rep: "ann"}]
big = FILTER sales, "amount>1000"
TALK UBOUND(big)
big = FILTER(sales, "amount > 1000 AND rep = 'ann'")
TALK big[0].id
rep = "bob"
mine = FILTER sales WHERE rep = rep
TALK mine[0].id
one = FILTER #{id: 9, amount: 1}, "amount = 1"
TALK UBOUND(one)
TALK TYPEOF(sales) & " " & UBOUND(sales)
''') == ["2", "3", "2", "1", "array 3"]


def test_group_join_pivot_map_fill_sort():
    assert says('''
sales = [#{rep: "ann", month: "jan", amount: 10, cid: 1}, #{rep: "bob", month: "jan", amount: 5, cid: 2}, #{rep: "ann", month: "feb", amount: 7, cid: 1}]
groups = GROUP_BY sales, "rep"
TALK UBOUND(groups.ann) & " " & UBOUND(groups["bob"])
customers = [#{cid: 1, name: "ACME", rep: "x"}, #{cid: 3, name: "Nobody"}]
joined = JOIN sales, customers, "cid"
TALK UBOUND(joined) & " " & joined[0].name & " " & joined[0].rep
TALK JOIN(["a", "b"], "-")
p = PIVOT sales, "month", "amount"
TALK p[0].month + "=" + p[0].amount & " " & p[1].month + "=" + p[1].amount
m = MAP sales, "rep->seller, amount->total"
TALK m[0].seller + m[0].total & " " & ISNULL(m[0].rep)
TALK JOIN(MAP(sales, "amount"), ",")
docs = FILL sales, #{title: "{{rep}} sold {{ amount }}", n: 1, parts: ["{{month}}"]}
TALK docs[2].title & " " & docs[2].parts[0] & " " & docs[2].n
s = SORT sales BY "amount" DESC
TALK s[0].amount & " " & sales[0].amount
s = SORT sales BY "rep"
TALK s[2].rep
TALK JOIN(SORT([3, 1, 2]), "")
''') == ["2 1", "2 ACME ann", "a-b", "jan=15 feb=7", "ann10 true", "10,5,7",
         "ann sold 7 feb 1", "10 10", "bob", "123"]


def test_collection_errors():
    transcript_errors = [
        ('x = FILL "proposal.docx"', "not available"),
        ('a = []\nx = PIVOT a, "a", "b", "SUM", "x"', "PIVOT takes"),
        ('a = 5\nx = FILTER a, "a = 1"', "array of objects"),
    ]
    from vm_support import run_script
    for source, message in transcript_errors:
        error = run_script(source).error
        assert error is not None and (message is None or message in error), (source, error)


def test_tables_need_a_service():
    from vm_support import run_script
    assert "not available" in run_script('x = FIND "t"').error


def test_scripts_of_one_world_share_one_event_loop(tmp_path):
    """The helper runs every script of a test in one loop (asyncpg pools need that)."""
    loops = []

    async def body(w):
        loops.append(asyncio.get_running_loop())
        await w.says('SAVE "t", #{a: 1}')
        loops.append(asyncio.get_running_loop())
    scenario("postgres", tmp_path, body)
    assert loops[0] is loops[1]


@each_kind()
def test_concurrent_writers_create_and_extend_one_table(kind, tmp_path):
    """Scripts running at once create the table, add columns and upsert without losing
    rows or deadlocking (PostgreSQL: DDL in its own transaction, one connection each)."""
    async def body(w):
        scripts = [f'''
SAVE "race", #{{id: "r{i}", n: {i}, c{i % 5}: "x"}}
n = UPDATE "race", "n < {i}", #{{seen{i % 3}: {i}}}
r = MERGE "race", [#{{id: "r{i}", m: {i}}}, #{{id: "new{i}", k{i % 4}: 1}}], "id"
''' for i in range(16)]
        results = await asyncio.gather(*(w.run(source) for source in scripts))
        assert [r.error for r in results if r.error] == []
        assert await w.says('r = FIND "race", "m >= 0"\nTALK UBOUND(r)\nall = FIND "race"\n'
                            'TALK UBOUND(all)') == ["16", "32"]
    scenario(kind, tmp_path, body)


def test_a_transaction_postgres_aborts_to_break_a_deadlock_runs_again(tmp_path):
    """Another client holds row b, the script's UPDATE locks a and waits for b, and the
    other client then asks for a: PostgreSQL aborts the UPDATE (the first to wait) as
    the deadlock's victim. The UPDATE runs again once the other client is done, and the
    script goes on as if nothing happened."""
    import asyncpg
    from data_support import PG_URL

    async def body(w):
        await w.says('SAVE "locks", #{id: "a", n: 1}\nSAVE "locks", #{id: "b", n: 2}')
        ref = w.sql.backend.table_ref(w.bot, "locks")
        other = await asyncpg.connect(PG_URL)
        try:
            other_tx = other.transaction()
            await other_tx.start()
            await other.execute(f"UPDATE {ref} SET n = 20 WHERE id = 'b'")
            script = asyncio.create_task(w.says(
                'n = UPDATE "locks", "n > 0", #{n: 7}\nTALK n\nall = FIND "locks"\n'
                'TALK all[0].n + all[1].n'))
            await asyncio.sleep(0.3)  # the script now holds a and waits for b
            await other.execute(f"UPDATE {ref} SET n = 10 WHERE id = 'a'")
            await other_tx.commit()
            assert await script == ["2", "14"]
        finally:
            await other.close()
    scenario("postgres", tmp_path, body)


def test_where_reads_procedure_parameters_and_globals(tmp_path):
    async def body(w):
        await w.says(PEOPLE)
        assert await w.says('''
city = "Oslo"
SUB show(who)
  r = FIND "people" WHERE name = who OR city = city ORDER BY name
  TALK r[0].email & " " & UBOUND(r)
  mine = FILTER r WHERE name = who
  TALK UBOUND(mine)
END SUB
show("Ann")
show("Cid")
''') == ["ann@x.com 2", "1", "bob@x.com 2", "1"]
    scenario("sqlite", tmp_path, body)
