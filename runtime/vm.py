"""The VM: runs a compiled Program, awaiting only at keyword instructions.

Public API::

    execution = Execution()
    execution.start(program, ctx, args=None)     # args: tool arguments by PARAM name
    outcome = await execution.run()              # Outcome(status, value, error)
    while outcome.status == "waiting":           # a HEAR/ASK waits for the user
        data = execution.snapshot()              # plain JSON data; may be stored
        execution = Execution.restore(data, programs, ctx)   # any process, same programs
        outcome = await execution.run(user_message)

Instructions run synchronously; native regions count as one step. Every ``yield_every``
steps the VM yields to the event loop (other sessions run) and checks the time budget.
A keyword handler returning ``call.wait()`` ends the run with status "waiting"; its
instruction runs again, with the user's message, when ``run(input)`` resumes.
"""
from __future__ import annotations

import asyncio
import logging
import time
import types
import weakref
from typing import Any, Callable, Optional

from ..keywords.calls import WAITING, ArgValue, DeferredExpr, KeywordCall
from . import program as P
from .errors import BasicError
from .limits import LimitExceeded, loop_limit_error, time_limit_error
from .native import Native
from .outcome import DONE, ERROR, WAITING as STATUS_WAITING, Outcome, ScriptError
from .state import ExecutionState, Frame, ScriptLevel
from .values import BasicObject, iterate, parse_number, to_num, to_str, truthy

log = logging.getLogger("botbasic.vm")

READY = "ready"
RUNNING = "running"

_INTEGER_TYPES = {"INTEGER", "INT", "LONG"}
_NUMBER_TYPES = {"NUMBER", "FLOAT", "DOUBLE", "DECIMAL", "MONEY", "CURRENCY"}


class _Suspend(Exception):
    """A keyword is waiting for the user (internal control flow)."""


class Execution:
    """One execution of a script with the scripts it CALLs (see module doc)."""

    def __init__(self) -> None:
        self.ctx = None
        self.state = ExecutionState()
        self.native: Optional[Native] = None
        self.result: Any = None
        self.error: Optional[ScriptError] = None
        self._input: Any = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._ops = _op_table(cls)

    # ------------------------------------------------------------ public API

    @property
    def status(self) -> str:
        """"ready", "running", "waiting", "done" or "error"."""
        return self.state.status

    @property
    def globals(self) -> dict:
        """The global variables of the outermost script (for hosts and tests)."""
        return self.state.scripts[0].globals if self.state.scripts else {}

    def start(self, program: P.Program, ctx, args: Optional[dict] = None) -> "Execution":
        """Prepare a run of ``program``; ``args`` bind PARAMs by name (tool calls, §8.5)."""
        self._attach(ctx)
        script = ScriptLevel(program, dict(ctx.variables))
        _bind_named(script, args or {}, self.native)
        self.state = ExecutionState()
        self.state.scripts.append(script)
        self.state.frames.append(Frame(script, 0, None, program.ntemps))
        ctx.error = script.error
        return self

    async def run(self, input: Any = None) -> Outcome:
        """Run until the script ends, fails or waits; ``input`` answers a waiting HEAR."""
        if self.state.status == STATUS_WAITING:
            if input is None:
                return Outcome(STATUS_WAITING)
            self._input = input
        elif self.state.status != READY:
            raise RuntimeError(f"cannot run an execution that is {self.state.status}")
        self.state.status = RUNNING
        started = time.monotonic()
        self.native.deadline = started + max(0.0, self.ctx.limits.max_seconds - self.state.elapsed)
        try:
            await self._loop()
        finally:
            self.state.elapsed += time.monotonic() - started
        return Outcome(self.state.status, self.result, self.error)

    def snapshot(self) -> dict:
        """The saved form of a waiting (or ready) execution: plain JSON data."""
        if self.state.status == RUNNING:
            raise RuntimeError("cannot save a running execution")
        return self.state.to_dict(self.ctx.unchanged_variables() if self.ctx else None)

    @classmethod
    def restore(cls, data: dict, programs, ctx) -> "Execution":
        """Continue a saved execution; ``programs`` maps program hashes to Programs
        (a ProgramStore or a dict) and must hold every version the state refers to."""
        execution = cls()
        execution._attach(ctx)
        execution.state = ExecutionState.from_dict(data, programs.get, ctx.variables)
        if execution.state.frames:
            ctx.error = execution.state.frames[-1].script.error
        return execution

    # ------------------------------------------------------------ the loop

    def _attach(self, ctx) -> None:
        self.ctx = ctx
        self.native = Native(ctx, ctx.limits, _region_error_of(self))

    async def _loop(self) -> None:
        frames = self.state.frames
        ops = self._ops
        every = self.ctx.limits.yield_every
        steps = 0
        while frames and self.state.status == RUNNING:
            frame = frames[-1]
            pc = frame.pc
            instr = frame.code[pc]
            frame.pc = pc + 1
            try:
                if instr.is_async:
                    await ops[type(instr)](self, frame, instr)
                else:
                    ops[type(instr)](self, frame, instr)
                steps += 1
                if steps >= every:
                    steps = 0
                    await asyncio.sleep(0)
                    self.native.tick()
            except _Suspend:
                self.state.status = STATUS_WAITING
            except Exception as exc:  # noqa: BLE001 - every failure becomes a script error
                self._fail(exc, frame, pc, instr)

    # ------------------------------------------------------------ errors

    def _locate(self, exc: BaseException, frame: Frame, line: int) -> BasicError:
        """The BasicError for ``exc`` with the script file and line filled in."""
        if isinstance(exc, BasicError):
            error = exc
        else:
            log.warning("internal error in %s:%s", frame.script.program.file, line, exc_info=exc)
            error = BasicError(f"{type(exc).__name__}: {exc}")
        if error.line is None:
            error.file, error.line = frame.script.program.file, line
        return error

    def _region_error(self, exc: BaseException, line: int) -> None:
        """A statement inside a native region failed (called from generated code)."""
        frame = self.state.frames[-1]
        error = self._locate(exc, frame, line)
        region = frame.code[frame.pc - 1]
        script = frame.script
        if isinstance(error, LimitExceeded) or region.in_try or not self._resumes_here(frame):
            raise error
        script.error.record(error.message, error.number)

    @staticmethod
    def _resumes_here(frame: Frame) -> bool:
        """Whether ON ERROR continues with the next statement of this frame (rather than
        jumping to an ON ERROR GOTO label of this body, or not trapping at all)."""
        script = frame.script
        if script.trap == "goto":
            return frame.proc != script.trap_proc
        return script.trap == "resume_next"

    def _fail(self, exc: BaseException, frame: Frame, pc: int, instr: P.Instr) -> None:
        """Deliver an error: to a TRY, to ON ERROR, to the caller; else end the run."""
        error = self._locate(exc, frame, instr.line)
        frames = self.state.frames
        while frames and not isinstance(error, LimitExceeded):
            frame = frames[-1]
            if self._catch(frame, pc, error) or self._trap(frame, pc, instr, error):
                return
            self._unwind()
            if frames:
                pc = frames[-1].pc - 1
                instr = frames[-1].code[pc]
        self._finish_error(error)

    def _catch(self, frame: Frame, pc: int, error: BasicError) -> bool:
        found = frame.script.program.try_range_at(pc)
        if found is None:
            return False
        frame.caught = {"message": error.message, "number": error.number}
        frame.pc = found.catch
        return True

    def _trap(self, frame: Frame, pc: int, instr: P.Instr, error: BasicError) -> bool:
        script = frame.script
        if script.trap == "off":
            return False
        script.error.record(error.message, error.number)
        if script.trap == "goto" and frame.proc == script.trap_proc:
            frame.pc = script.trap_target
        elif instr.resume >= 0:
            frame.pc = instr.resume
        else:  # a keyword or call whose value was wanted: it yields NULL
            frame.pc = pc + 1
            if getattr(instr, "slot", None) is not None:
                frame.temps[instr.slot] = None
        return True

    def _unwind(self) -> None:
        frames = self.state.frames
        frame = frames.pop()
        if frame.kind == "main" and frames:  # the outermost globals stay for the host
            self.state.scripts.remove(frame.script)
        if frames and frames[-1].script is not frame.script:
            self.ctx.error = frames[-1].script.error

    def _finish_error(self, error: BasicError) -> None:
        self.error = ScriptError.from_error(error)
        self.state.status = ERROR
        self.state.frames.clear()
        self.ctx.logger.warning("%s", self.error)

    # ------------------------------------------------------------ helpers

    def _eval(self, frame: Frame, fn):
        return fn(frame.script.globals, frame.locals, frame.temps, self.native)

    def _scope(self, frame: Frame, var: P.VarRef) -> dict:
        return frame.locals if var.local else frame.script.globals

    def _load(self, frame: Frame, var: P.VarRef):
        return self._scope(frame, var).get(var.name)

    def _store(self, frame: Frame, var: P.VarRef, value) -> None:
        self._scope(frame, var)[var.name] = value

    def _count(self, frame: Frame, slot: int) -> None:
        count = frame.temps[slot] + 1
        if count > self.native.max_iterations:
            raise loop_limit_error(self.ctx.limits)
        frame.temps[slot] = count

    # ------------------------------------------------------------ instructions

    def op_Region(self, frame: Frame, ins: P.Region) -> None:
        ins.fn(frame.script.globals, frame.locals, frame.temps, self.native)

    def op_Eval(self, frame: Frame, ins: P.Eval) -> None:
        frame.temps[ins.slot] = self._eval(frame, ins.fn)

    def op_Branch(self, frame: Frame, ins: P.Branch) -> None:
        if truthy(self._eval(frame, ins.fn)) == ins.when:
            frame.pc = ins.target

    def op_Jump(self, frame: Frame, ins: P.Jump) -> None:
        frame.pc = ins.target

    def op_Gosub(self, frame: Frame, ins: P.Gosub) -> None:
        frame.gosub.append(frame.pc)
        frame.pc = ins.target

    def op_Clear(self, frame: Frame, ins: P.Clear) -> None:
        for slot in ins.slots:
            frame.temps[slot] = None

    def op_OnError(self, frame: Frame, ins: P.OnError) -> None:
        script = frame.script
        script.error.clear()
        script.trap = "off" if ins.mode == "goto0" else ins.mode
        script.trap_target = ins.target
        script.trap_proc = frame.proc

    def op_CatchBind(self, frame: Frame, ins: P.CatchBind) -> None:
        caught, frame.caught = frame.caught or {"message": "", "number": 0}, None
        frame.script.error.record(caught["message"], caught["number"])
        if ins.var is not None:
            self._store(frame, ins.var, BasicObject(caught))

    # -- loops
    def op_ForPrep(self, frame: Frame, ins: P.ForPrep) -> None:
        start, end, step = self._eval(frame, ins.fn)
        step = 1 if step is None else to_num(step)
        if step == 0:
            raise BasicError("FOR ... STEP 0 would never end")
        frame.temps[ins.slot:ins.slot + 3] = [to_num(end), step, 0]
        self._store(frame, ins.var, to_num(start))
        self.native.tick()

    def op_ForTest(self, frame: Frame, ins: P.ForTest) -> None:
        value = to_num(self._load(frame, ins.var))
        end, step = frame.temps[ins.slot], frame.temps[ins.slot + 1]
        if value > end if step > 0 else value < end:
            frame.pc = ins.target
            return
        self._count(frame, ins.slot + 2)

    def op_ForNext(self, frame: Frame, ins: P.ForNext) -> None:
        value = to_num(self._load(frame, ins.var))
        self._store(frame, ins.var, value + frame.temps[ins.slot + 1])

    def op_EachPrep(self, frame: Frame, ins: P.EachPrep) -> None:
        frame.temps[ins.slot:ins.slot + 2] = [iterate(self._eval(frame, ins.fn)), 0]
        self.native.tick()

    def op_EachNext(self, frame: Frame, ins: P.EachNext) -> None:
        items, position = frame.temps[ins.slot], frame.temps[ins.slot + 1]
        if position >= len(items):
            frame.pc = ins.target
            return
        if position >= self.native.max_iterations:
            raise loop_limit_error(self.ctx.limits)
        self._store(frame, ins.var, items[position])
        frame.temps[ins.slot + 1] = position + 1

    def op_LoopPrep(self, frame: Frame, ins: P.LoopPrep) -> None:
        frame.temps[ins.slot] = 0
        self.native.tick()

    def op_LoopCount(self, frame: Frame, ins: P.LoopCount) -> None:
        self._count(frame, ins.slot)

    # -- calls
    def op_CallProc(self, frame: Frame, ins: P.CallProc) -> None:
        proc = frame.script.program.procedures[ins.name]
        args = self._eval(frame, ins.args_fn) if ins.args_fn else ()
        self._push_proc(frame, proc, args, ins.slot)

    def _push_proc(self, frame: Frame, proc: P.ProcInfo, args, slot) -> None:
        depth = frame.depth + 1
        if depth > self.ctx.limits.max_recursion:
            raise LimitExceeded(f"procedure calls nested deeper than {self.ctx.limits.max_recursion}")
        locals_ = {name: (args[i] if i < len(args) else None) for i, name in enumerate(proc.params)}
        callee = Frame(frame.script, proc.entry, locals_, proc.ntemps, "proc", proc.name, slot, depth)
        self.state.frames.append(callee)

    async def op_CallNamed(self, frame: Frame, ins: P.CallNamed) -> None:
        program = await self._resolve(ins.name)
        if program is None:
            raise BasicError(f"undefined procedure or script {ins.name.upper()}")
        args = self._eval(frame, ins.args_fn) if ins.args_fn else ()
        self._push_script(frame, program, args, ins.slot)

    async def op_CallScript(self, frame: Frame, ins: P.CallScript) -> None:
        name = to_str(self._eval(frame, ins.name_fn)).strip()
        args = self._eval(frame, ins.args_fn) if ins.args_fn else ()
        program = await self._resolve(name)
        if program is None:
            raise BasicError(f"script {name} not found")
        self._push_script(frame, program, args, ins.slot)

    async def _resolve(self, name: str) -> Optional[P.Program]:
        stem = name[:-4] if name.lower().endswith(".bas") else name
        found = self.ctx.resolve_script(stem)
        if asyncio.iscoroutine(found) or isinstance(found, asyncio.Future):
            found = await found
        return found

    def _push_script(self, frame: Frame, program: P.Program, args, slot) -> None:
        depth = frame.script.depth + 1
        if depth > self.ctx.limits.max_call_depth:
            raise LimitExceeded(f"CALL nested deeper than {self.ctx.limits.max_call_depth} scripts")
        script = ScriptLevel(program, dict(self.ctx.variables), depth)
        for i, param in enumerate(program.params):
            script.globals[param.name] = args[i] if i < len(args) else None
        self.state.scripts.append(script)
        self.state.frames.append(Frame(script, 0, None, program.ntemps, ret=slot, depth=frame.depth))
        self.ctx.error = script.error

    def op_Return(self, frame: Frame, ins: P.Return) -> None:
        if ins.gosub and frame.gosub:
            frame.pc = frame.gosub.pop()
            return
        value = self._eval(frame, ins.fn) if ins.fn else None
        if frame.kind != "proc":
            self._end_script(value)
            return
        if ins.fn is None and frame.proc in frame.locals:
            value = frame.locals[frame.proc]  # VB style: FunctionName = value
        frames = self.state.frames
        frames.pop()
        if frame.ret is not None:
            frames[-1].temps[frame.ret] = value

    def op_EndScript(self, frame: Frame, ins: P.EndScript) -> None:
        self._end_script(self._eval(frame, ins.fn) if ins.fn else None)

    def _end_script(self, value) -> None:
        frames = self.state.frames
        script = frames[-1].script
        main = None
        while frames and frames[-1].script is script:
            main = frames.pop()
        if not frames:  # the outermost script: its globals stay readable by the host
            self.result = value
            self.state.status = DONE
            return
        self.state.scripts.remove(script)
        if main.ret is not None:
            frames[-1].temps[main.ret] = value
        self.ctx.error = frames[-1].script.error

    # -- keywords
    async def op_Keyword(self, frame: Frame, ins: P.Keyword) -> None:
        spec = self.ctx.registry.keywords.get(ins.phrase)
        if spec is None or spec.handler is None:
            raise BasicError(f"{ins.phrase} is not available in this version")
        call = self._keyword_call(frame, ins, spec)
        result = await self._invoke(spec, call)
        if result is WAITING:
            if not spec.suspends:
                raise BasicError(f"{ins.phrase} cannot wait for the user")
            self.state.pending = {"args": [a.value if not isinstance(a.value, DeferredExpr)
                                           else None for a in call.args],
                                  "state": call.state}
            frame.pc -= 1  # run this keyword again when the answer comes
            raise _Suspend
        if ins.slot is not None:
            frame.temps[ins.slot] = result

    def _keyword_call(self, frame: Frame, ins: P.Keyword, spec) -> KeywordCall:
        pending, self.state.pending = self.state.pending, None
        if pending is not None:
            values, state, answer = pending["args"], pending["state"], self._input
        else:
            values = self._eval(frame, ins.args_fn) if ins.args_fn else ()
            state, answer = {}, None
        args = [ArgValue(sep, value, name) for sep, value, name in zip(ins.seps, values, ins.names)]
        for index, fn, node in ins.deferred:
            args[index] = ArgValue(ins.seps[index], self._deferred(frame, fn, node), ins.names[index])
        return KeywordCall(spec, args, ins.line, frame.script.program.file, ins.raw_args,
                           ins.target, answer, pending is not None, state)

    def _deferred(self, frame: Frame, fn, node) -> DeferredExpr:
        G, L, T, X = frame.script.globals, frame.locals, frame.temps, self.native
        return DeferredExpr(node, lambda names: fn(G, L, T, X, names))

    async def _invoke(self, spec, call: KeywordCall):
        """Run a handler; one that really waits (I/O) is bounded by the time budget.

        Most handlers finish without ever suspending (TALK, in-process memory), so the
        coroutine is first stepped by hand: no timer, no event-loop round trip."""
        coro = spec.handler(self.ctx, call)
        try:
            first = coro.send(None)
        except StopIteration as done:
            return done.value
        remaining = self.native.deadline - time.monotonic()
        timeout = asyncio.timeout(None if remaining == float("inf") else max(remaining, 0))
        try:
            async with timeout:
                return await _finish(coro, first)
        except TimeoutError:
            if timeout.expired():
                raise time_limit_error(self.ctx.limits) from None
            raise


def _region_error_of(execution: Execution) -> Callable[[BaseException, int], None]:
    """``execution._region_error`` without a strong reference back to the execution: the
    execution owns its Native, and a cycle would leave every finished turn's objects to the
    garbage collector instead of freeing them at once."""
    execution_ref = weakref.ref(execution)

    def region_error(exc: BaseException, line: int) -> None:
        execution_ref()._region_error(exc, line)
    return region_error


def _op_table(cls: type) -> dict:
    """Instruction type -> ``op_...`` function of ``cls``. Built once per class: a table of
    bound methods per execution cost about as much as a short turn's instructions, and
    tied every execution into a reference cycle left to the garbage collector."""
    return {instr: getattr(cls, "op_" + instr.__name__) for instr in P.INSTRUCTIONS}


Execution._ops = _op_table(Execution)


@types.coroutine
def _finish(coro, yielded):
    """Await the rest of a coroutine that already yielded ``yielded`` (``yield from``
    for a coroutine started by hand): pass what it yields up, and sends/throws down."""
    while True:
        try:
            sent = yield yielded
        except BaseException as exc:  # noqa: BLE001 - cancellation must reach the handler
            step = coro.throw
            argument = exc
        else:
            step = coro.send
            argument = sent
        try:
            yielded = step(argument)
        except StopIteration as done:
            return done.value


def _bind_named(script: ScriptLevel, args: dict, native: Native) -> None:
    """Bind tool arguments to PARAMs by name (case-insensitive), converting numeric and
    boolean strings; a missing argument takes the DEFAULT, else NULL (§8.5)."""
    by_name = {str(k).lower(): v for k, v in args.items()}
    for param in script.program.params:
        if param.name in by_name:
            value = _convert(param.type, by_name[param.name])
        elif param.default_fn is not None:
            value = param.default_fn(script.globals, None, [], native)
        else:
            value = None
        script.globals[param.name] = value


def _convert(type_name: str, value):
    if type(value) is not str:
        return value
    if type_name in _INTEGER_TYPES or type_name in _NUMBER_TYPES:
        number = parse_number(value)
        if number is not None and (type_name in _NUMBER_TYPES or type(number) is int):
            return number
    elif type_name in ("BOOLEAN", "BOOL") and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value
