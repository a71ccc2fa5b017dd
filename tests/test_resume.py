"""Suspension and resumption: a saved execution, restored from JSON in a fresh Execution
over freshly compiled programs, continues exactly like an uninterrupted run."""
from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings, strategies as st

from botbasic.interpreter import analyze_source
from botbasic.interpreter.compiler import compile_script
from botbasic.keywords import default_registry
from botbasic.runtime.context import SessionData
from botbasic.runtime.program import ProgramStore
from botbasic.runtime.values import to_plain
from botbasic.runtime.vm import Execution

from vm_support import compile_source, make_context, run_script

MAIN = """
total = 0
names = []
SUB collect(i)
  HEAR who WITH "Name " + i + "?"
  names.push(who)
END SUB
FUNCTION bonus(x)
  IF x > 5 THEN
    HEAR extra AS INTEGER WITH "Extra for " + x + "?"
    RETURN extra
  END IF
  RETURN 0
END FUNCTION
FOR i = 1 TO 2
  CALL collect(i)
NEXT
FOR EACH who IN names
  SELECT CASE LCASE(who)
    CASE "skip"
      TALK "skipping"
    CASE "stop"
      TALK "stopping"
      EXIT FOR
    CASE ELSE
      HEAR n AS INTEGER WITH "How many for " + who + "?"
      total = total + n + bonus(n)
  END SELECT
NEXT
k = 0
DO
  k = k + 1
  HEAR more AS BOOLEAN WITH "More? (" + k + ")"
LOOP WHILE more AND k < 3
r = CALL "child.bas", total, names
TALK "Result: " + r
RETURN r
"""

CHILD = """PARAM amount AS INTEGER
PARAM people
HEAR choice AS "double", "same" WITH "Choose for " + amount
IF choice = "double" THEN
  amount = amount * 2
END IF
GOSUB report
RETURN amount
report:
  TALK "people: " + UBOUND(people)
  RETURN
"""

ANSWERS = st.sampled_from(["Ann", "Bob", "skip", "stop", "3", "7", "x", "yes", "no", "",
                           "double", "same", "1"])


def _compile_all(registry) -> ProgramStore:
    store = ProgramStore()
    for name, source in (("child", CHILD), ("main", MAIN)):
        result = analyze_source(source, f"{name}.bas", registry)
        result.raise_errors()
        store.add(compile_script(result.script, source, registry, result.info.params))
    return store


FIRST = _compile_all(default_registry())
FRESH_REGISTRY = default_registry()
FRESH = _compile_all(FRESH_REGISTRY)  # same hashes, separately compiled objects


def converse(answers, save_points=None):
    """Run MAIN with ``answers``; at each wait whose index is in ``save_points`` the
    execution and the session go through JSON into a new context and Execution."""
    events: list = []
    ctx = make_context(events, FIRST)
    execution = Execution().start(FIRST.latest("main"), ctx)
    outcome = asyncio.run(execution.run())
    for index, answer in enumerate(answers):
        if outcome.status != "waiting":
            break
        if save_points is not None and index in save_points:
            saved = json.dumps({"execution": execution.snapshot(),
                                "session": ctx.session.to_dict()})
            data = json.loads(saved)
            ctx = make_context(events, FRESH, services=ctx.services,
                               session=SessionData.from_dict(data["session"]),
                               registry=FRESH_REGISTRY)
            execution = Execution.restore(data["execution"], FRESH, ctx)
        outcome = asyncio.run(execution.run(answer))
    return {"status": outcome.status, "value": to_plain(outcome.value),
            "error": str(outcome.error) if outcome.error else None, "events": events,
            "globals": to_plain({k: v for k, v in execution.globals.items()}),
            "session": ctx.session.to_dict()}


@settings(max_examples=60, deadline=None)
@given(answers=st.lists(ANSWERS, max_size=14), saves=st.sets(st.integers(0, 13)))
def test_saved_and_restored_execution_continues_exactly(answers, saves):
    assert converse(answers, saves) == converse(answers)


def test_a_full_conversation():
    run = converse(["Ann", "Bob", "7", "2", "3", "yes", "no", "double"], set(range(20)))
    messages = [e["text"] for e in run["events"] if e["type"] == "message"]
    assert messages == ["Name 1?", "Name 2?", "How many for Ann?", "Extra for 7?",
                        "How many for Bob?", "More? (1)", "More? (2)", "Choose for 12",
                        "people: 2", "Result: 24"]
    assert run["status"] == "done" and run["value"] == 24


def test_snapshot_is_plain_json():
    execution = Execution().start(FIRST.latest("main"), make_context([], FIRST))
    asyncio.run(execution.run())
    data = execution.snapshot()
    assert json.loads(json.dumps(data)) == data
    assert data["status"] == "waiting" and data["pending"]["state"] == {"retries": 0}


# ---------------------------------------------------------------- what survives a restore


def _resumed(source, answers, **kwargs):
    return run_script(source, answers, save=True, **kwargs)


def test_shared_arrays_stay_shared():
    source = 'a = [1]\nb = a\nHEAR x\nb.push(2)\nTALK a\nTALK b'
    assert _resumed(source, ["go"]).messages == ["[1,2]", "[1,2]"]


def test_for_each_elements_stay_the_objects_of_the_array():
    source = ('rows = [#{n: 1}, #{n: 2}]\nFOR EACH r IN rows\nHEAR v\nr.n = r.n * 10\nNEXT\n'
              'TALK rows')
    assert _resumed(source, ["a", "b"]).messages == ['[{"n":10},{"n":20}]']


def test_cyclic_values_can_be_saved():
    source = 'a = []\na.push(a)\nHEAR x\nTALK UBOUND(a)'
    assert _resumed(source, ["go"]).messages == ["1"]


def test_loop_counters_gosub_and_trap_mode_survive():
    source = """ON ERROR RESUME NEXT
FOR i = 1 TO 3 STEP 2
  GOSUB ask
  TALK i + ":" + x
NEXT
y = 1 / 0
TALK "trapped " + ERROR
EXIT
ask:
  HEAR x
  RETURN
"""
    assert _resumed(source, ["a", "b"]).messages == ["1:a", "3:b", "trapped true"]


def test_suspension_inside_a_called_script_inside_a_procedure():
    child = 'HEAR v AS INTEGER\nRETURN v * 2'
    source = 'FUNCTION twice()\nRETURN CALL "child.bas"\nEND FUNCTION\nTALK twice() + 1'
    assert _resumed(source, ["20"], scripts={"child": child}).messages == ["41"]


def test_a_suspended_execution_finishes_on_its_own_version():
    old = compile_source('HEAR x\nTALK "old " + x', "greet")
    new = compile_source('HEAR x\nTALK "new " + x', "greet")
    store = ProgramStore([old])
    events: list = []
    execution = Execution().start(old, make_context(events, store))
    asyncio.run(execution.run())
    data = json.loads(json.dumps(execution.snapshot()))
    store.add(new)  # the script was edited while the user was thinking
    restored = Execution.restore(data, store, make_context(events, store))
    asyncio.run(restored.run("Ann"))
    assert [e["text"] for e in events] == ["old Ann"]
    assert store.latest("greet") is new


def test_restore_needs_the_program_version():
    program = compile_source("HEAR x", "lonely")
    execution = Execution().start(program, make_context([], ProgramStore([program])))
    asyncio.run(execution.run())
    with pytest.raises(LookupError, match="lonely"):
        Execution.restore(execution.snapshot(), ProgramStore(), make_context([], ProgramStore()))


def test_waiting_run_without_input_keeps_waiting():
    program = compile_source("HEAR x\nTALK x", "w")
    execution = Execution().start(program, make_context([], ProgramStore([program])))
    assert asyncio.run(execution.run()).status == "waiting"
    assert asyncio.run(execution.run()).status == "waiting"
    assert asyncio.run(execution.run("hi")).status == "done"


# ---------------------------------------------------------------- injected objects


def _injected_context(events, store):
    from botbasic.runtime.values import BasicObject
    user = BasicObject({"id": "u1", "name": "Ann"})
    bot = BasicObject({"id": "b1", "name": "helper"})
    return make_context(events, store, variables={"user": user, "bot": bot})


def _save_and_restore(source: str, answers: list) -> tuple[list, list]:
    """Run ``source``; at every HEAR the execution goes through JSON into a new context
    that injects new ``user``/``bot`` objects. Returns (messages, saved snapshots)."""
    store = ProgramStore([compile_source(source)])
    events: list = []
    ctx = _injected_context(events, store)
    execution = Execution().start(store.latest("main"), ctx)
    outcome = asyncio.run(execution.run())
    saved = []
    for answer in answers:
        saved.append(json.loads(json.dumps(execution.snapshot())))
        ctx = _injected_context(events, store)
        execution = Execution.restore(saved[-1], store, ctx)
        outcome = asyncio.run(execution.run(answer))
    assert outcome.error is None, outcome.error
    return [e["text"] for e in events if e["type"] == "message"], saved


def test_unchanged_injected_objects_are_saved_by_name_and_injected_again():
    messages, saved = _save_and_restore('HEAR x\nTALK user.name + " " + bot.name + " " + x',
                                        ["hi"])
    assert messages == ["Ann helper hi"]
    script = saved[0]["scripts"][0]
    assert script["injected"] == ["user", "bot"] and "user" not in script["globals"]


def test_a_changed_or_shared_injected_object_is_saved_whole():
    source = 'user.name = "Bob"\nb = bot\nb.name = "other"\nHEAR x\nTALK user.name + " " + bot.name'
    messages, saved = _save_and_restore(source, ["go"])
    assert messages == ["Bob other"]
    assert "injected" not in saved[0]["scripts"][0]
