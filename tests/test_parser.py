"""Golden tests of the front end: one snippet per construct -> the dumped AST."""
import pytest

from front_end_helpers import dumps, one

EXPRESSIONS = [
    # precedence (§4.1)
    ("x = 1 + 2 * 3", "(Assign (Name x) (Binary + 1 (Binary * 2 3)))"),
    ("x = -2 ^ 2", "(Assign (Name x) (Unary - (Binary ^ 2 2)))"),
    ("x = 2 ^ 3 ^ 2", "(Assign (Name x) (Binary ^ 2 (Binary ^ 3 2)))"),
    ("x = a & b + c", "(Assign (Name x) (Binary & (Name a) (Binary + (Name b) (Name c))))"),
    ("x = 7 \\ 2 MOD 3", "(Assign (Name x) (Binary MOD (Binary \\ 7 2) 3))"),
    ("x = 7 % 2", "(Assign (Name x) (Binary MOD 7 2))"),
    ("x = a ?? b", "(Assign (Name x) (Binary ?? (Name a) (Name b)))"),
    # the positional = rule (§4.5): first = assigns, the others compare
    ("x = a = b", "(Assign (Name x) (Binary = (Name a) (Name b)))"),
    ("x = a == b", "(Assign (Name x) (Binary = (Name a) (Name b)))"),
    ("x = a <> b", "(Assign (Name x) (Binary <> (Name a) (Name b)))"),
    ("x = a != b", "(Assign (Name x) (Binary <> (Name a) (Name b)))"),
    # logic (§4.4): NOT binds looser than comparisons
    ("x = NOT a = 1", "(Assign (Name x) (Not (Binary = (Name a) 1)))"),
    ("x = NOT a AND NOT b", "(Assign (Name x) (Logical AND (Not (Name a)) (Not (Name b))))"),
    ("x = a OR b AND c", "(Assign (Name x) (Logical OR (Name a) (Logical AND (Name b) (Name c))))"),
    ("x = a && b || !c", "(Assign (Name x) (Logical OR (Logical AND (Name a) (Name b)) (Not (Name c))))"),
    # predicates
    ("x = a IS NULL", "(Assign (Name x) (IsNull (Name a)))"),
    ("x = a IS NOT NULL", "(Assign (Name x) (IsNull (Name a) True))"),
    ("x = a IS EMPTY", "(Assign (Name x) (IsNull (Name a) True))".replace("True", "empty=True")
     if False else "(Assign (Name x) (IsNull (Name a) True))"),
    ("x = a IN (1, 2)", "(Assign (Name x) (InList (Name a) [1 2]))"),
    ("x = a NOT IN (1, 2)", "(Assign (Name x) (InList (Name a) [1 2] True))"),
    ("x = a IN arr", "(Assign (Name x) (InList (Name a) [(Name arr)] True))"),
    ("x = a LIKE \"%x%\"", "(Assign (Name x) (Binary LIKE (Name a) '%x%'))"),
    ("x = a CONTAINS \"x\"", "(Assign (Name x) (Binary CONTAINS (Name a) 'x'))"),
    ("x = a BETWEEN 1 AND 5", "(Assign (Name x) (Between (Name a) 1 5))"),
    ("x = a > 1 ? \"y\" : \"n\"", "(Assign (Name x) (Ternary (Binary > (Name a) 1) 'y' 'n'))"),
    # member access, indexing, calls
    ("x = res.data.items[0].id",
     "(Assign (Name x) (Member (Index (Member (Member (Name res) data) items) 0) id))"),
    ("x = a?.b?.c", "(Assign (Name x) (Member (Member (Name a) b) c))"),
    ("x = s.trim().length", "(Assign (Name x) (Member (MethodCall (Name s) trim) length))"),
    ("x = LEN(name$)", "(Assign (Name x) (Call len [(Name name)]))"),
    ("x = UCASE$(s)", "(Assign (Name x) (Call ucase [(Name s)]))"),
    ("x = NOW()", "(Assign (Name x) (Call now))"),
    # literals
    ("x = .5", "(Assign (Name x) 0.5)"),
    ("x = 1e3", "(Assign (Name x) 1000.0)"),
    ("x = TRUE", "(Assign (Name x) True)"),
    ("x = null", "(Assign (Name x) None)"),
    ("x = 'f'", "(Assign (Name x) 'f')"),
    ('x = "a\\nb"', "(Assign (Name x) 'a\\nb')"),
    ('x = "say ""hi"""', "(Assign (Name x) 'say \"hi\"')"),
    ('x = ""', "(Assign (Name x) '')"),
    ('x = "\\${literal}"', "(Assign (Name x) '${literal}')"),
    ('x = "n=${a + 1}!"', "(Assign (Name x) (Interpolated ['n=' (Binary + (Name a) 1) '!']))"),
    ('x = "${{mustache}}"', "(Assign (Name x) '${{mustache}}')"),
    ("x = [1, 2,]", "(Assign (Name x) (ArrayLit [1 2]))"),
    ("x = []", "(Assign (Name x) (ArrayLit))"),
    ('x = #{ title: "t", "p": 1, to: 2 }', "(Assign (Name x) (ObjectLit [['title' 't'] ['p' 1] ['to' 2]]))"),
    ('x = { "a": { b: [1] } }', "(Assign (Name x) (ObjectLit [['a' (ObjectLit [['b' (ArrayLit [1])]])]]))"),
    ("x = NEW OBJECT", "(Assign (Name x) (ObjectLit))"),
    ("x = CREATE OBJECT", "(Assign (Name x) (ObjectLit))"),
    ("x = NEW ARRAY", "(Assign (Name x) (ArrayLit))"),
]


@pytest.mark.parametrize("source,expected", EXPRESSIONS)
def test_expression(source, expected):
    assert one(source) == expected


KEYWORDS_AS_NAMES = [
    # §2.4: words that are keywords elsewhere stay variable names where no keyword can stand
    ("list = FIND \"t\"", "(Assign (Name list) (KeywordExpr FIND [(Arg 't')]))"),
    ("filter = \"\"", "(Assign (Name filter) '')"),
    ("x = list", "(Assign (Name x) (Name list))"),
    ("x.from = 1", "(Assign (Member (Name x) from) 1)"),
    ("to = 3", "(Assign (Name to) 3)"),
    ("x = res.next", "(Assign (Name x) (Member (Name res) next))"),
    ("IF case <> NULL THEN x = case.id", None),
    ("SET list = 5", "(Assign (Name list) 5)"),
    ("LET count = count + 1", "(Assign (Name count) (Binary + (Name count) 1))"),
]


@pytest.mark.parametrize("source,expected", KEYWORDS_AS_NAMES)
def test_keywords_as_names(source, expected):
    result = one(source)
    if expected is not None:
        assert result == expected


COMMANDS = [
    ('TALK "Hello"', "(Command TALK [(Arg 'Hello')])"),
    ('talk  "x"', "(Command TALK [(Arg 'x')])"),
    ('SET  BOT MEMORY "k", 1', "(Command 'SET BOT MEMORY' [(Arg 'k') (Arg , 1)])"),
    ('SET_BOT_MEMORY "k", 1', "(Command 'SET BOT MEMORY' [(Arg 'k') (Arg , 1)])"),
    ('SET BOT MEMORY "k" AS 1', "(Command 'SET BOT MEMORY' [(Arg 'k') (Arg AS 1)])"),
    ('HEAR name AS NAME WITH "Who?"',
     "(Command HEAR [(Arg (Name name)) (Arg AS (Name name)) (Arg WITH 'Who?')])"),
    ('HEAR c AS "Yes", "No"', "(Command HEAR [(Arg (Name c)) (Arg AS 'Yes') (Arg , 'No')])"),
    ("x = HEAR AS INTEGER", "(Assign (Name x) (KeywordExpr HEAR [(Arg AS (Name integer))]))"),
    ('ADD SUGGESTION "ctx" AS "Text"', "(Command 'ADD SUGGESTION' [(Arg 'ctx') (Arg AS 'Text')])"),
    ("CLEAR SUGGESTIONS", "(Command 'CLEAR SUGGESTIONS')"),
    ('SEND MAIL to, "s", body', "(Command 'SEND MAIL' [(Arg (Name to)) (Arg , 's') (Arg , (Name body))])"),
    ('rows = FIND "t" WHERE email = email ORDER BY name DESC',
     "(Assign (Name rows) (KeywordExpr FIND [(Arg 't') (Arg WHERE (Binary = (Name email) (Name email))) "
     "(Arg 'ORDER BY' (Name name)) (Arg DESC)]))"),
    ('USE_WEBSITE("https://x", "30d")', "(Command 'USE WEBSITE' [(Arg 'https://x') (Arg , '30d')])"),
    ('SET HEADER "Authorization", "Bearer " + GET BOT MEMORY("k")',
     "(Command 'SET HEADER' [(Arg 'Authorization') (Arg , (Binary + 'Bearer ' "
     "(KeywordExpr 'GET BOT MEMORY' [(Arg 'k')] True)))])"),
    ('x = GET BOT MEMORY "v_" + email',
     "(Assign (Name x) (KeywordExpr 'GET BOT MEMORY' [(Arg (Binary + 'v_' (Name email)))]))"),
    ('x = GET_BOT_MEMORY("k") + 1',
     "(Assign (Name x) (Binary + (KeywordExpr 'GET BOT MEMORY' [(Arg 'k')] True) 1))"),
    ('SET "session.case_id" = 5', "(Command SET [(Arg 'session.case_id') (Arg , 5)])"),
    ("SET role, role", "(Command SET [(Arg (Name role)) (Arg , (Name role))])"),
]


@pytest.mark.parametrize("source,expected", COMMANDS)
def test_command(source, expected):
    assert one(source) == expected


FUNCTION_FORMS = [
    ('x = "PO-" + FORMAT NOW() AS "YYYYMMDD" + "-" + FORMAT RANDOM(100, 999)',
     "(Assign (Name x) (Binary + (Binary + (Binary + 'PO-' (Call format [(Call now) 'YYYYMMDD'])) '-') "
     "(Call format [(Call random [100 999])])))"),
    ('d = FORMAT d, "yyyy-MM-dd"', "(Assign (Name d) (Call format [(Name d) 'yyyy-MM-dd']))"),
    ("s = FORMAT o AS JSON", "(Assign (Name s) (Call format [(Name o) 'JSON']))"),
    ('d = DATEADD today, "days", 7', "(Assign (Name d) (Call dateadd [(Name today) 'days' 7]))"),
    ("top = FIRST links, 10", "(Assign (Name top) (Call first [(Name links) 10]))"),
    ('x = FORMAT (a - b) AS "#,##0"', "(Assign (Name x) (Call format [(Binary - (Name a) (Name b)) '#,##0']))"),
    ('t = FORMAT(a, "x") + " to " + FORMAT(b, "x")',
     "(Assign (Name t) (Binary + (Binary + (Call format [(Name a) 'x']) ' to ') (Call format [(Name b) 'x'])))"),
]


@pytest.mark.parametrize("source,expected", FUNCTION_FORMS)
def test_keyword_forms_of_functions(source, expected):
    assert one(source) == expected


BLOCKS = [
    ("""
     IF a THEN
       x = 1
     ELSE IF b THEN
       x = 2
     ELSEIF c THEN
       x = 3
     ELSE
       x = 4
     END IF
     """,
     "(If [(IfBranch (Name a) [(Assign (Name x) 1)]) (IfBranch (Name b) [(Assign (Name x) 2)]) "
     "(IfBranch (Name c) [(Assign (Name x) 3)])] [(Assign (Name x) 4)])"),
    ("IF score > 100 THEN score = 100",
     "(If [(IfBranch (Binary > (Name score) 100) [(Assign (Name score) 100)])])"),
    ('IF a THEN TALK "y" ELSE TALK "n"',
     "(If [(IfBranch (Name a) [(Command TALK [(Arg 'y')])])] [(Command TALK [(Arg 'n')])])"),
    ("""
     ELSE_BLOCK = 1
     """, "(Assign (Name else_block) 1)"),
    ("""
     SELECT CASE UCASE(a)
       CASE "X", "Y"
         n = 1
       CASE 1 TO 5
         n = 2
       CASE IS >= 10
         n = 3
       CASE ELSE
         n = 0
     END SELECT
     """,
     "(Select (Call ucase [(Name a)]) [(Case [(CaseTest value 'X') (CaseTest value 'Y')] [(Assign (Name n) 1)]) "
     "(Case [(CaseTest range 1 5)] [(Assign (Name n) 2)]) (Case [(CaseTest is 10 >=)] [(Assign (Name n) 3)])] "
     "[(Assign (Name n) 0)])"),
    ("""
     SWITCH r
       CASE "a"
         n = 1
       DEFAULT
         n = 0
     END SWITCH
     """,
     "(Select (Name r) [(Case [(CaseTest value 'a')] [(Assign (Name n) 1)])] [(Assign (Name n) 0)])"),
    ("""
     FOR EACH item IN items DO
       n = n + 1
     END FOR
     """, "(ForEach item (Name items) [(Assign (Name n) (Binary + (Name n) 1))])"),
    ("""
     FOR x IN list
     NEXT x
     """, "(ForEach x (Name list))"),
    ("""
     FOR EACH r IN FIND "t", "a=1"
     NEXT
     """, "(ForEach r (KeywordExpr FIND [(Arg 't') (Arg , 'a=1')]))"),
    ("""
     FOR i = 10 TO 1 STEP -1
     NEXT i
     """, "(ForRange i 10 1 -1)"),
    ("""
     DO WHILE i < 3
       i = i + 1
     LOOP
     """, "(DoLoop (Binary < (Name i) 3) while False [(Assign (Name i) (Binary + (Name i) 1))])"),
    ("""
     DO
       EXIT DO
     LOOP UNTIL done
     """, "(DoLoop (Name done) until True [(Exit do)])"),
    ("""
     WHILE a
     WEND
     """, "(DoLoop (Name a) while False while)"),
    ("""
     WHILE a DO
     END WHILE
     """, "(DoLoop (Name a) while False while)"),
    ("""
     WITH o
       name = name
       .from = FROM
       date = today
     END WITH
     """, "(WithBlock o [['name' (Name name)] ['from' (Name from)] ['date' (Name today)]])"),
    ("""
     TRY
       THROW "x"
     CATCH e
       TALK e.message
     END TRY
     """, "(Try [(Throw 'x')] e [(Command TALK [(Arg (Member (Name e) message))])])"),
    ("ON ERROR RESUME NEXT", "(OnError resume_next)"),
    ("ON ERROR GOTO 0", "(OnError goto0)"),
    ('ASSERT x > 0, "positive"', "(Assert (Binary > (Name x) 0) 'positive')"),
    ("RETURN WITH id AS 1, ok AS TRUE", "(Return (ObjectLit [['id' 1] ['ok' True]]))"),
    ("EXIT", "(Exit script)"),
    ("END", "(Exit script)"),
    ("DIM total", "(Assign (Name total) None)"),
    ("CLEAR ERROR", "(ExprStmt (Call err_clear))"),
]


@pytest.mark.parametrize("source,expected", BLOCKS)
def test_block(source, expected):
    assert one(source) == expected


def test_verbatim_talk_dedents_and_keeps_interior_blank_lines():
    stmt = one("""
        BEGIN TALK

          **Hello** ${name}
            - indented

          ' not a comment
        END TALK
        """)
    assert stmt == ("(Verbatim TALK (Interpolated ['**Hello** ' (Name name) "
                    "\"\\n  - indented\\n\\n' not a comment\"]))")


def test_system_prompt_block():
    assert one("""
        BEGIN SYSTEM PROMPT
        You help ${role}.
        END SYSTEM PROMPT
        """) == "(Verbatim 'SYSTEM PROMPT' (Interpolated ['You help ' (Name role) '.']))"


def test_procedures_are_hoisted():
    from front_end_helpers import analyze
    result = analyze("""
        CALL greet("Ann")
        x = twice(2)
        SUB greet(who AS STRING)
          TALK "Hi " + who
        END SUB
        FUNCTION twice(n)
          RETURN n * 2
        END FUNCTION
        """)
    assert result.ok, result.diagnostics
    from botbasic.interpreter.dump import dump
    assert [dump(s) for s in result.script.body] == [
        "(CallProc greet ['Ann'])", "(Assign (Name x) (Call twice [2]))"]
    assert [(p.name, p.params, p.is_function) for p in result.script.procedures] == [
        ("greet", ("who",), False), ("twice", ("n",), True)]


def test_call_script_forms():
    assert dumps("""
        CALL "send.bas", a, b
        r = CALL "calc", 2
        CALL other
        """) == ["(ExprStmt (CallScript 'send.bas' [(Name a) (Name b)]))",
                 "(Assign (Name r) (CallScript 'calc' [2]))",
                 "(ExprStmt (CallScript 'other'))"]


def test_comments_and_continuations():
    assert dumps("""
        ' full line
        REM another
        // slash comment
        # hash comment
        x = "it's" ' trailing
        y = 1 + _
            2
        z = a +
            b
        arr = [1,
               2]
        s = "two
        lines"
        """) == ["(Assign (Name x) \"it's\")", "(Assign (Name y) (Binary + 1 2))",
                 "(Assign (Name z) (Binary + (Name a) (Name b)))",
                 "(Assign (Name arr) (ArrayLit [1 2]))", "(Assign (Name s) 'two\\nlines')"]


def test_labels_and_goto():
    assert dumps("""
        start:
        i = i + 1
        IF i < 3 THEN GOTO start
        """) == ["(Label start)", "(Assign (Name i) (Binary + (Name i) 1))",
                 "(If [(IfBranch (Binary < (Name i) 3) [(Goto start)])])"]


def test_unknown_statement_is_unsupported():
    assert one("FROBNICATE THE WIDGET") == "(Unsupported FROBNICATE)"


def test_declarations_leave_the_body_and_fill_the_info():
    from front_end_helpers import analyze
    result = analyze("""
        PARAM email AS EMAIL LIKE "a@b.c" DESCRIPTION "Who" OPTIONAL
        PARAM n AS INTEGER
        DESCRIPTION "Does things"
        SET SCHEDULE "every day at 9am"
        WEBHOOK "Order Created"
        TALK "run"
        """)
    assert result.ok, result.diagnostics
    info = result.info
    assert [(p.name, p.type, p.optional, p.like) for p in info.params] == [
        ("email", "EMAIL", True, "a@b.c"), ("n", "INTEGER", False, None)]
    assert info.description == "Does things"
    assert [s.cron for s in info.schedules] == ["0 9 * * *"]
    assert info.webhooks == ["order-created"]
    assert [type(s).__name__ for s in result.script.body] == ["Command"]
    schema = info.tool_schema()["function"]
    assert schema["parameters"]["required"] == ["n"]


REGRESSIONS = [
    ('x = GET BOT MEMORY("k") + 1',
     "(Assign (Name x) (Binary + (KeywordExpr 'GET BOT MEMORY' [(Arg 'k')] True) 1))"),
    ("TALK [1, 2]", "(Command TALK [(Arg (ArrayLit [1 2]))])"),
    ("TALK ERROR MESSAGE", "(Command TALK [(Arg (Call get_error_message))])"),
    ('TALK "ab" LIKE "A%"', "(Command TALK [(Arg (Binary LIKE 'ab' 'A%'))])"),
    ("list[0] = 1", "(Assign (Index (Name list) 0) 1)"),
]


@pytest.mark.parametrize("source,expected", REGRESSIONS)
def test_regressions(source, expected):
    assert one(source) == expected


def test_very_long_concatenation_compiles():
    from front_end_helpers import analyze
    result = analyze("x = " + " + ".join(['"a"'] * 3000))
    assert result.ok and type(result.script.body[0].value).__name__ == "Binary"


def test_array_literal_after_a_connector():
    assert one('x = ANALYZE SENTIMENT FROM ["a", "b"]') == (
        "(Assign (Name x) (KeywordExpr 'ANALYZE SENTIMENT' [(Arg FROM (ArrayLit ['a' 'b']))]))")
