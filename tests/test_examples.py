"""Golden transcripts of the example scripts, run through `botbasic run`."""
import io
from pathlib import Path

import pytest

from botbasic.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script: str, *answers: str, json: bool = False):
    out, err = io.StringIO(), io.StringIO()
    argv = ["run", str(EXAMPLES / script)] + [f"--input={a}" for a in answers]
    import contextlib
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv + (["--json"] if json else []))
    return status, out.getvalue().splitlines(), err.getvalue()


TRANSCRIPTS = {
    "hello.bas": (["Ann", "42", "yes"], 0, [
        "**Welcome to botbasic!**", "I am a bot written in BASIC.",  # one two-line message
        "What is your name?", "Nice to meet you, Ann.", "How old are you?",
        "In 23 years you can retire.", "Do you like BASIC?", "So do I."]),
    "calculator.bas": (["12 / 4", "2 ^ 10", "1 / 0", "5 ? 2", "quit"], 0, [
        "Type a calculation like 12 * 4 (or 'quit'):", "Result: 3", "Another one?",
        "Result: 1,024", "Another one?", "That did not work: division by zero", "Another one?",
        "I do not know the operator ?", "Another one?", "Bye."]),
    "collections.bas": ([], 0, [
        "I know 4 fruits: apple, banana, cherry, date", "0. APPLE", "2. CHERRY",
        "Order 1001 for Ann: 18.00", "T-3", "T-2", "T-1", "The first item is a pen",
        "Sorted: date > cherry > banana > apple"]),
    "procedures.bas": ([], 0, [
        "5! = 120", "Hello, world!", "counted to 3", "-- footer --", "helper.bas adds 2 and 3",
        "helper.bas returned 5"]),
    "menu.bas": (["2"], 0, [
        "What do you need?", "  [My orders]  [Help]  [Orders]  [Help]  [Quit]", "Ask me anything.",
        "Remembered: help; visits before this one: 0"]),
    "errors.bas": ([], 1, [
        "Trapped: division by zero", "Caught: custom failure", "Assertion: arithmetic is broken",
        "The next line stops the script with file and line:"]),
}


@pytest.mark.parametrize("script", sorted(TRANSCRIPTS))
def test_transcript(script):
    answers, status, expected = TRANSCRIPTS[script]
    got_status, lines, err = run(script, *answers)
    assert lines == expected, err
    assert got_status == status, err


def test_runtime_error_names_file_and_line():
    status, _, err = run("errors.bas")
    assert status == 1
    assert err.strip().endswith("examples/errors.bas:21: error: cannot use 'abc' as a number")


def test_waiting_for_input_exits_3():
    status, lines, err = run("hello.bas", "Ann")
    assert status == 3 and lines[-1] == "How old are you?"
    assert "waiting for input" in err


def test_json_events():
    status, lines, _ = run("procedures.bas", json=True)
    assert status == 0
    import json
    assert json.loads(lines[0]) == {"type": "message", "text": "5! = 120"}


def test_compile_errors_exit_2(tmp_path):
    bad = tmp_path / "bad.bas"
    bad.write_text('IF x THEN\nTALK "never closed"\n')
    out, err = io.StringIO(), io.StringIO()
    import contextlib
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["run", str(bad)]) == 2
    assert "bad.bas:1:1: error: IF without END IF" in err.getvalue()
