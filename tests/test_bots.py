"""The server's bot registry (server/bots.py) and hot reload (server/watcher.py), DIALECT §1.6.

Real packages in tmp_path, real watchfiles. Hot reload tests wait for each effect with a
deadline (the registry promises 2 s; the tests allow 5 s so a busy machine does not fail them).
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path

from botbasic.interpreter import front_end_registry
from botbasic.runtime.context import ExecutionContext
from botbasic.runtime.vm import Execution
from botbasic.server.bots import BotRegistry
from botbasic.server.watcher import touched_packages

REPO = Path(__file__).resolve().parent.parent
DEADLINE = 5.0

GREETING = 'TALK "hello"\n'
HELPER = 'PARAM who AS STRING DESCRIPTION "Whom to greet"\nDESCRIPTION "Greets"\nTALK "hi " + who\n'
BROKEN = 'TALK "fine so far"\nx = 1 +* 2\n'          # error at line 2, col 8
CONFIG = "name,value\nbot-name,Good bot\nparam-limit,5\n"


# ---------------------------------------------------------------- helpers


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_package(bots: Path, name: str, scripts: dict[str, str], config: str | None = None) -> Path:
    root = bots / f"{name}.gbai"
    for file_name, text in scripts.items():
        write(root / f"{name}.gbdialog" / file_name, text)
    if config is not None:
        write(root / f"{name}.gbot" / "config.csv", config)
    return root


def script_path(bots: Path, bot: str, file_name: str) -> Path:
    return bots / f"{bot}.gbai" / f"{bot}.gbdialog" / file_name


def new_registry(bots: Path, **kwargs) -> BotRegistry:
    registry = BotRegistry(bots, front_end_registry(), **kwargs)
    registry.load_all()
    return registry


def two_bots(tmp_path: Path) -> Path:
    bots = tmp_path / "bots"
    make_package(bots, "good", {"start.bas": GREETING, "helper.bas": HELPER}, CONFIG)
    make_package(bots, "bad", {"start.bas": GREETING, "broken.bas": BROKEN})
    return bots


def served_hash(registry: BotRegistry, bot: str, script: str):
    found = registry.get(bot)
    program = found.program(script) if found is not None else None
    return program.hash if program is not None else None


async def eventually(check, what: str):
    """Poll ``check()`` until it is truthy; fail after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not seen within {DEADLINE} s: {what}"
        await asyncio.sleep(0.05)


async def until_watching(registry: BotRegistry, bots: Path) -> None:
    """Rewrite a probe package until the watcher reports it: events before the watcher is
    set up are lost, so the scenario starts only once one has been seen."""
    deadline = time.monotonic() + DEADLINE
    count = 0
    while registry.get("probe") is None:
        assert time.monotonic() < deadline, "the watcher never reported a change"
        count += 1
        make_package(bots, "probe", {"start.bas": f'TALK "{count}"\n'})
        await asyncio.sleep(0.1)


def watching(registry: BotRegistry, bots: Path, scenario) -> None:
    """Run ``await scenario()`` while ``registry.watch`` runs; stop the watcher after."""
    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(registry.watch(stop))
        try:
            await until_watching(registry, bots)
            await scenario()
        finally:
            stop.set()
            await asyncio.wait_for(task, DEADLINE)
    asyncio.run(main())


# ---------------------------------------------------------------- loading


def test_load_all_reports_statuses_and_errors_with_positions(tmp_path, caplog):
    bots = two_bots(tmp_path)
    with caplog.at_level(logging.WARNING, logger="botbasic.bots"):
        registry = new_registry(bots)

    assert [bot.name for bot in registry.bots()] == ["bad", "good"]
    good, bad = registry.get("good").status(), registry.get("bad").status()
    assert good["status"] == "ok" and good["errors"] == []
    assert [s["name"] for s in good["scripts"]] == ["helper", "start"]
    assert all(s["status"] == "ok" and s["hash"] for s in good["scripts"])

    assert bad["status"] == "errors"
    [error] = bad["errors"]
    assert Path(error["file"]).name == "broken.bas"
    assert (error["line"], error["col"], error["severity"]) == (2, 8, "error")
    scripts = {s["name"]: s for s in bad["scripts"]}
    assert scripts["broken"]["status"] == "failed" and scripts["broken"]["hash"] is None
    assert scripts["start"]["status"] == "ok"
    assert registry.get("bad").program("broken") is None
    assert registry.get("bad").entry_program() is not None
    assert any("broken.bas:2:8: error" in r.getMessage() for r in caplog.records)


def test_bots_serve_programs_declarations_and_config(tmp_path):
    registry = new_registry(two_bots(tmp_path))
    bot = registry.get("GOOD")
    assert bot is registry.get("good") and registry.get("nobody") is None
    assert bot.entry_program().name == "start"
    assert bot.program("Helper.bas") is bot.program("helper") is not None
    assert bot.program("missing") is None
    assert bot.infos["helper"].tool_schema()["function"]["description"] == "Greets"
    assert bot.config.get("Bot Name") == "Good bot"
    assert bot.config.script_variables() == {"limit": 5}
    assert bot.program("start").hash in registry.programs


def test_a_bot_whose_entry_script_does_not_compile_has_failed(tmp_path):
    bots = tmp_path / "bots"
    make_package(bots, "down", {"start.bas": BROKEN, "other.bas": GREETING})
    bot = new_registry(bots).get("down")
    assert bot.status()["status"] == "failed"
    assert bot.entry_program() is None and bot.program("other") is not None


def test_on_program_sees_each_new_program_once_with_its_source(tmp_path):
    bots = two_bots(tmp_path)
    seen = []
    registry = new_registry(bots, on_program=lambda program, bot, source: seen.append(
        (bot.name, program.name, source)))
    assert sorted(seen) == [("bad", "start", GREETING), ("good", "helper", HELPER),
                            ("good", "start", GREETING)]
    registry.reload("good")
    assert len(seen) == 3
    write(script_path(bots, "good", "start.bas"), 'TALK "changed"\n')
    registry.reload("good")
    assert seen[-1] == ("good", "start", 'TALK "changed"\n')


def test_reload_compiles_only_changed_scripts_and_keeps_old_versions(tmp_path):
    bots = two_bots(tmp_path)
    registry = new_registry(bots)
    before = registry.get("good")
    version = registry.version

    assert registry.reload("good") is not before
    assert registry.version == version  # nothing observable changed
    assert registry.get("good").library.analyze("helper") is before.library.analyze("helper")

    old_hash = served_hash(registry, "good", "start")
    write(script_path(bots, "good", "start.bas"), 'TALK "hello again"\n')
    after = registry.reload("good")
    assert after.library.analyze("helper") is before.library.analyze("helper")
    assert served_hash(registry, "good", "start") not in (None, old_hash)
    assert registry.programs[old_hash] is before.program("start")
    assert registry.version > version


def test_reload_of_a_removed_package_drops_the_bot(tmp_path):
    bots = two_bots(tmp_path)
    registry = new_registry(bots)
    shutil.rmtree(bots / "bad.gbai")
    assert registry.reload("bad") is None
    assert registry.get("bad") is None and [b.name for b in registry.bots()] == ["good"]


def test_reload_finds_a_new_package_and_nested_folders(tmp_path):
    bots = two_bots(tmp_path)
    registry = new_registry(bots)
    make_package(bots / "team", "Extra", {"start.bas": GREETING})
    assert registry.reload("extra").name == "Extra"
    assert registry.get("EXTRA").entry_program() is not None


def test_packages_with_the_same_name_keep_the_first(tmp_path, caplog):
    bots = tmp_path / "bots"
    first = make_package(bots / "a", "twin", {"start.bas": GREETING})
    make_package(bots / "b", "twin", {"start.bas": GREETING})
    with caplog.at_level(logging.WARNING, logger="botbasic.bots"):
        registry = new_registry(bots)
    assert registry.get("twin").package.root == first.resolve()
    assert any("already provides" in r.getMessage() for r in caplog.records)


def test_changes_are_mapped_to_their_packages(tmp_path):
    bots = tmp_path / "bots"
    touched = touched_packages(bots, [
        str(bots / "a.gbai" / "a.gbdialog" / "start.bas"),
        str(bots / "team" / "b.GBAI" / "b.gbot" / "config.csv"),
        str(bots / "a.gbai"),
    ])
    assert touched.roots == {bots / "a.gbai", bots / "team" / "b.GBAI"}
    assert not touched.rescan
    assert touched_packages(bots, [str(bots / "team")]).rescan


def test_the_example_bots_load_without_problems():
    registry = new_registry(REPO / "bots")
    bot = registry.get("demo")
    assert bot is not None
    for each in registry.bots():
        assert each.status()["status"] == "ok" and each.errors == [], each.status()
    assert bot.config.script_variables()["company"] == "botbasic"
    assert bot.infos["order"].is_tool


def test_the_demo_bot_converses_with_its_config_and_called_script():
    bot = new_registry(REPO / "bots").get("demo")
    events: list[dict] = []
    ctx = ExecutionContext(front_end_registry(), emit=events.append,
                           resolve_script=bot.library.resolve,
                           variables=bot.config.script_variables())

    async def converse():
        execution = Execution().start(bot.entry_program(), ctx)
        outcome = await execution.run()
        for answer in ["Ann", "Prices", "Place an order", "3", "Bye"]:
            assert outcome.status == "waiting"
            outcome = await execution.run(answer)
        return outcome

    assert asyncio.run(converse()).status == "done"
    messages = [e["text"] for e in events if e["type"] == "message"]
    assert messages[0].startswith("**Hello from botbasic!**")
    assert "Everything costs 20 today, 10% off for you, Ann." in messages
    assert "Order total: 54.00" in messages and messages[-1] == "Goodbye, Ann!"


# ---------------------------------------------------------------- hot reload


def test_watch_adds_and_removes_packages(tmp_path):
    bots = two_bots(tmp_path)
    registry = new_registry(bots)
    outside = make_package(tmp_path / "staging" / "group", "moved", {"start.bas": GREETING})

    async def scenario():
        make_package(bots, "fresh", {"start.bas": GREETING})
        await eventually(lambda: served_hash(registry, "fresh", "start"), "a new package")

        shutil.move(str(outside.parent), str(bots / "group"))  # a folder of packages
        await eventually(lambda: registry.get("moved"), "a moved-in folder of packages")

        version = registry.version
        shutil.rmtree(bots / "bad.gbai")
        await eventually(lambda: registry.get("bad") is None, "a removed package")
        assert registry.version > version

        shutil.rmtree(bots / "group")
        await eventually(lambda: registry.get("moved") is None, "a removed folder")
        assert registry.get("good").status()["status"] == "ok"

    watching(registry, bots, scenario)


def test_watch_follows_a_script_through_changes(tmp_path):
    bots = two_bots(tmp_path)
    registry = new_registry(bots)
    start = script_path(bots, "good", "start.bas")
    first = served_hash(registry, "good", "start")

    async def scenario():
        write(start, 'TALK "version 2"\n')
        second = await eventually(
            lambda: (h := served_hash(registry, "good", "start")) != first and h, "a changed script")
        assert first in registry.programs and second in registry.programs

        write(start, BROKEN)
        await eventually(lambda: registry.get("good").errors, "a broken script")
        bot = registry.get("good")
        assert served_hash(registry, "good", "start") == second  # last good version
        assert [(d.line, d.col) for d in bot.errors] == [(2, 8)]
        assert bot.status()["status"] == "errors"
        assert {s["name"]: s["status"] for s in bot.status()["scripts"]}["start"] == "errors"

        write(start, 'TALK "version 3"\n')
        await eventually(lambda: not registry.get("good").errors, "a fixed script")
        assert served_hash(registry, "good", "start") not in (first, second)
        assert registry.get("good").status()["status"] == "ok"

        script_path(bots, "good", "helper.bas").unlink()
        await eventually(lambda: registry.get("good").program("helper") is None, "a removed script")
        assert "helper" not in registry.get("good").infos

        write(script_path(bots, "good", "extra.bas"), GREETING)
        await eventually(lambda: registry.get("good").program("extra"), "an added script")

    watching(registry, bots, scenario)


def test_watch_reloads_the_config(tmp_path):
    bots = two_bots(tmp_path)
    registry = new_registry(bots)
    config = bots / "good.gbai" / "good.gbot" / "config.csv"

    async def scenario():
        version = registry.version
        write(config, CONFIG.replace("param-limit,5", "param-limit,7"))
        await eventually(lambda: registry.get("good").config.script_variables() == {"limit": 7},
                         "a changed config.csv")
        assert registry.version > version

    watching(registry, bots, scenario)
