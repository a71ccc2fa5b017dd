"""The state of an execution between two instructions, and its plain-data form.

``ScriptLevel`` is one script execution (the main script or a ``CALL "x.bas"``): its
program, its global variables and its ON ERROR state. ``Frame`` is one activation: the
body of a script level or a SUB/FUNCTION call, with its pc, locals, temporaries (loop
counters, bounds and FOR EACH snapshots included), GOSUB return points and the error a
TRY just caught. ``ExecutionState`` is the whole stack plus what a suspended keyword keeps.

``ExecutionState.to_dict()`` is JSON-ready data; values are written with
``values.to_plain`` tags, and containers reachable more than once (two variables holding
one array, a FOR EACH snapshot of objects the script still changes, cycles) are written
once in a shared ``heap`` and referenced, so that aliasing survives a restore.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from .context import ErrorState
from .values import BasicObject, HttpResponse, RowSet, from_plain, to_plain

FORMAT = 1
_TAG = "$t"


class ScriptLevel:
    """One running script: program, globals and ON ERROR mode (§6.4)."""

    __slots__ = ("program", "globals", "trap", "trap_target", "trap_proc", "error", "depth")

    def __init__(self, program, globals_: dict, depth: int = 0):
        self.program = program
        self.globals = globals_
        self.trap = "off"  # "off" | "resume_next" | "goto"
        self.trap_target = -1
        self.trap_proc: Optional[str] = None
        self.error = ErrorState()
        self.depth = depth


class Frame:
    """One activation of a script body or a procedure."""

    __slots__ = ("script", "code", "pc", "locals", "temps", "kind", "proc", "ret", "depth",
                 "gosub", "caught")

    def __init__(self, script: ScriptLevel, pc: int, locals_: Optional[dict], ntemps: int,
                 kind: str = "main", proc: Optional[str] = None, ret: Optional[int] = None,
                 depth: int = 0):
        self.script = script
        self.code = script.program.code
        self.pc = pc
        self.locals = locals_
        self.temps: list = [None] * ntemps
        self.kind = kind  # "main" (a script body) | "proc"
        self.proc = proc
        self.ret = ret  # the caller's temporary that receives the return value
        self.depth = depth  # procedure calls on the stack, this one included
        self.gosub: list[int] = []
        self.caught: Optional[dict] = None


class ExecutionState:
    """Everything needed to continue an execution."""

    def __init__(self):
        self.scripts: list[ScriptLevel] = []
        self.frames: list[Frame] = []
        self.pending: Optional[dict] = None  # a suspended keyword: {"args": [...], "state": {...}}
        self.elapsed = 0.0
        self.status = "ready"

    def to_dict(self, injected: Optional[dict] = None) -> dict:
        """JSON-ready data (see module doc). ``injected``: name -> object the host injects
        into every script's globals again when it restores (``from_dict``'s ``injected``);
        a global that still holds that very object, referenced nowhere else, is saved as
        its name only."""
        encoder = _Encoder()
        roots = [s.globals for s in self.scripts]
        roots += [f.locals for f in self.frames if f.locals is not None]
        roots += [f.temps for f in self.frames]
        if self.pending is not None:
            roots.append(self.pending["args"])
        for root in roots:
            encoder.scan(root)
        index = {id(s): i for i, s in enumerate(self.scripts)}
        return {
            "format": FORMAT,
            "status": self.status,
            "elapsed": self.elapsed,
            "scripts": [_script_dict(s, encoder, injected) for s in self.scripts],
            "frames": [_frame_dict(f, index[id(f.script)], encoder) for f in self.frames],
            "pending": _pending_dict(self.pending, encoder),
            "heap": encoder.heap,
        }

    @classmethod
    def from_dict(cls, data: dict, program_for: Callable[[str], Any],
                  injected: Optional[dict] = None) -> "ExecutionState":
        """Rebuild a state; ``program_for(hash)`` returns the compiled program and
        ``injected`` the objects ``to_dict`` saved by name (missing ones become NULL)."""
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown saved execution format {data.get('format')!r}")
        decoder = _Decoder(data.get("heap", []))
        state = cls()
        state.status = data["status"]
        state.elapsed = data.get("elapsed", 0.0)
        state.scripts = [_script_from(d, program_for, decoder, injected or {})
                         for d in data["scripts"]]
        state.frames = [_frame_from(d, state.scripts, decoder) for d in data["frames"]]
        pending = data.get("pending")
        if pending is not None:
            state.pending = {"args": decoder.decode(pending["args"]), "state": pending["state"]}
        return state


def _script_dict(script: ScriptLevel, encoder: "_Encoder", injected: Optional[dict]) -> dict:
    globals_, names = script.globals, []
    if injected:
        names = [name for name, value in injected.items()
                 if globals_.get(name) is value and encoder.counts.get(id(value)) == 1]
        if names:
            globals_ = {k: v for k, v in globals_.items() if k not in names}
    data = {"program": script.program.hash, "name": script.program.name,
            "globals": encoder.encode(globals_), "trap": script.trap,
            "trap_target": script.trap_target, "trap_proc": script.trap_proc,
            "error": script.error.to_dict(), "depth": script.depth}
    if names:
        data["injected"] = names
    return data


def _script_from(data: dict, program_for, decoder: "_Decoder", injected: dict) -> ScriptLevel:
    program = program_for(data["program"])
    if program is None:
        raise LookupError(f"program {data['name']} ({data['program'][:12]}) is not available")
    globals_ = {name: injected.get(name) for name in data.get("injected", ())}
    globals_.update(decoder.decode(data["globals"]))
    script = ScriptLevel(program, globals_, data.get("depth", 0))
    script.trap = data["trap"]
    script.trap_target = data.get("trap_target", -1)
    script.trap_proc = data.get("trap_proc")
    script.error = ErrorState.from_dict(data.get("error"))
    return script


def _frame_dict(frame: Frame, script_index: int, encoder: "_Encoder") -> dict:
    return {"script": script_index, "pc": frame.pc, "kind": frame.kind, "proc": frame.proc,
            "ret": frame.ret, "depth": frame.depth, "gosub": list(frame.gosub),
            "caught": frame.caught,
            "locals": None if frame.locals is None else encoder.encode(frame.locals),
            "temps": encoder.encode(frame.temps)}


def _frame_from(data: dict, scripts: list, decoder: "_Decoder") -> Frame:
    locals_ = None if data["locals"] is None else dict(decoder.decode(data["locals"]))
    frame = Frame(scripts[data["script"]], data["pc"], locals_, 0, data["kind"], data["proc"],
                  data["ret"], data.get("depth", 0))
    frame.temps = decoder.decode(data["temps"])
    frame.gosub = list(data.get("gosub", []))
    frame.caught = data.get("caught")
    return frame


def _pending_dict(pending: Optional[dict], encoder: "_Encoder") -> Optional[dict]:
    if pending is None:
        return None
    return {"args": encoder.encode(list(pending["args"])), "state": pending["state"]}


# ---------------------------------------------------------------- values with sharing


class _Encoder:
    """Plain data for values; containers seen more than once go to ``heap``."""

    def __init__(self):
        self.counts: dict[int, int] = {}
        self.alive: list = []  # keeps scanned containers alive so ids stay unique
        self.heap: list = []
        self.slots: dict[int, int] = {}

    def scan(self, root) -> None:
        """Count how often each container is reached from ``root`` (a list or dict)."""
        counts, alive = self.counts, self.alive
        stack = [root]
        while stack:  # only containers are pushed: a snapshot is taken at every HEAR
            value = stack.pop()
            seen = counts.get(id(value), 0)
            counts[id(value)] = seen + 1
            if seen == 0:
                alive.append(value)
                children = value.values() if isinstance(value, dict) else value
                stack += [child for child in children if isinstance(child, (list, dict))]

    def encode(self, value):
        if not isinstance(value, (list, dict)):
            return to_plain(value)
        if self.counts.get(id(value), 0) > 1:
            return self.reference(value)
        return self.body(value)

    def reference(self, value) -> dict:
        slot = self.slots.get(id(value))
        if slot is None:
            slot = self.slots[id(value)] = len(self.heap)
            self.heap.append(None)
            self.heap[slot] = self.body(value)
        return {_TAG: "ref", "v": slot}

    def body(self, value):
        if type(value) is RowSet:
            return {_TAG: "rows", "v": [self.encode(x) for x in value]}
        if isinstance(value, list):
            return [self.encode(x) for x in value]
        items = {(k if type(k) is str else str(k)): self.encode(x) for k, x in value.items()}
        if isinstance(value, HttpResponse):
            return {_TAG: "http", "v": items}
        return {_TAG: "obj", "v": items} if _TAG in items else items


class _Decoder:
    """Inverse of ``_Encoder``; each heap entry becomes one shared container."""

    def __init__(self, heap: list):
        self.heap = heap
        self.built: dict[int, Any] = {}

    def decode(self, data):
        if type(data) is list:
            return [self.decode(x) for x in data]
        if type(data) is not dict:
            return data
        tag = data.get(_TAG)
        if tag == "ref":
            return self.reference(data["v"])
        if tag is None or tag in ("rows", "obj", "http"):
            return self.fill(self.shell(data), data)
        return from_plain(data)

    def reference(self, slot: int):
        found = self.built.get(slot)
        if found is None:
            data = self.heap[slot]
            found = self.built[slot] = self.shell(data)
            self.fill(found, data)
        return found

    @staticmethod
    def shell(data):
        if type(data) is list:
            return []
        tag = data.get(_TAG)
        if tag == "rows":
            return RowSet()
        if tag == "http":
            response = HttpResponse()
            dict.clear(response)
            return response
        if tag not in (None, "obj"):
            return from_plain(data)  # a scalar kept in the heap (never produced, tolerated)
        return BasicObject()

    def fill(self, shell, data):
        if isinstance(shell, list):
            items = data if type(data) is list else data["v"]
            shell.extend(self.decode(x) for x in items)
        elif isinstance(shell, dict):
            items = data["v"] if data.get(_TAG) in ("obj", "http") else data
            for key, value in items.items():
                dict.__setitem__(shell, key, self.decode(value))
        return shell
