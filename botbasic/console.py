"""``botbasic run SCRIPT.bas``: a script as a console dialog.

Each TALK prints its message; each HEAR takes the next ``--input`` or, without any
``--input``, the next line of standard input. Exit status: 0 done, 1 runtime error,
2 compile error, 3 waiting for input that never came.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import Iterator, Optional

from botbasic.interpreter import front_end_registry
from botbasic.runtime.context import ExecutionContext
from botbasic.runtime.outcome import ScriptError
from botbasic.runtime.scripts import ScriptLibrary, script_key
from botbasic.runtime.services.bundle import bot_services, folder_drive
from botbasic.runtime.vm import Execution

EXIT_DONE, EXIT_ERROR, EXIT_COMPILE, EXIT_WAITING = 0, 1, 2, 3


class Printer:
    """Shows bot events: plain text (coloured on a terminal) or one JSON object per line."""

    def __init__(self, as_json: bool, out=sys.stdout):
        self.as_json = as_json
        self.out = out
        self.colour = (not as_json) and out.isatty()
        self.suggestions: list = []

    def event(self, event: dict) -> None:
        if self.as_json:
            print(json.dumps(event, ensure_ascii=False, default=str), file=self.out, flush=True)
        elif event.get("type") == "message":
            self._line(str(event.get("text", "")), "\033[36m")
        elif event.get("type") == "suggestions":
            self.suggestions = list(event.get("items") or [])

    def waiting(self) -> None:
        """Before the user answers: the buttons a chat window would show now."""
        if self.suggestions and not self.as_json:
            labels = [str(i.get("text", i)) if isinstance(i, dict) else str(i) for i in self.suggestions]
            self._line("  " + "  ".join(f"[{label}]" for label in labels), "\033[2m")

    def _line(self, text: str, colour: str) -> None:
        if self.colour:
            text = f"{colour}{text}\033[0m"
        print(text, file=self.out, flush=True)


def answers(inputs: Optional[list[str]], stdin=sys.stdin, err=sys.stderr) -> Iterator[str]:
    """The user's answers: the ``--input`` values, else lines of standard input."""
    if inputs is not None:
        yield from inputs
        return
    interactive = stdin.isatty()
    while True:
        if interactive:
            print("> ", end="", file=err, flush=True)
        line = stdin.readline()
        if not line:
            return
        yield line.rstrip("\n")


async def converse(execution: Execution, replies: Iterator[str], printer: Printer,
                   err=sys.stderr) -> int:
    """Run until the script ends, fails, or waits with no answer left."""
    outcome = await execution.run()
    while outcome.status == "waiting":
        printer.waiting()
        reply = next(replies, None)
        if reply is None:
            print("botbasic: the script is waiting for input (HEAR) and none is left", file=err)
            return EXIT_WAITING
        outcome = await execution.run(reply)
    if outcome.status == "error":
        print(outcome.error, file=err)
        return EXIT_ERROR
    return EXIT_DONE


def run_console(script: str, inputs: Optional[list[str]], as_json: bool, lenient: bool,
                out=None, err=None, stdin=None) -> int:
    out, err, stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin
    path = Path(script)
    if not path.is_file():
        print(f"botbasic run: no such script: {script}", file=err)
        return EXIT_COMPILE
    registry = front_end_registry()
    library = ScriptLibrary.for_folder(path.parent, registry, lenient)
    library.scripts[script_key(path.name)] = path
    result = library.analyze(path.name)
    for diag in result.diagnostics:
        print(diag, file=err)
    if not result.ok:
        return EXIT_COMPILE
    printer = Printer(as_json, out)
    services = bot_services(drive=folder_drive(path.parent))
    ctx = ExecutionContext(registry, services=services, emit=printer.event,
                           resolve_script=library.resolve)
    execution = Execution().start(library.program(path.name), ctx)
    with script_log_to(err):
        return asyncio.run(converse(execution, answers(inputs, stdin, err), printer, err))


@contextlib.contextmanager
def script_log_to(stream):
    """PRINT and LOG lines of the script go to ``stream``; runtime errors are printed by
    the runner itself (once, as ``file:line: error: ...``), so the log's copy is dropped."""
    logger = logging.getLogger("botbasic.script")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: not (record.args and isinstance(record.args[0], ScriptError)))
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
