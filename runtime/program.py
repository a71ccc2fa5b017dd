"""A compiled script: a flat list of instructions with jumps (see interpreter/compiler.py).

Most of a script runs inside ``Region`` instructions: native Python functions generated
for maximal pure statement sequences (runtime/codegen.py). The other instructions are the
points where the VM must see the program: keyword calls (which may await or suspend),
procedure and script calls, and the control flow around them. All loop state lives in the
frame's temporaries, so the state between two instructions is plain data.

Functions referenced by instructions have the signature ``fn(G, L, T, X)``: globals dict,
procedure locals dict (None at top level), temporaries list and the execution's native
support object (runtime/native.py). They are looked up by name in the program's namespace
when the program is linked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Optional


@dataclass(frozen=True, slots=True)
class VarRef:
    """A variable an instruction reads or writes: a procedure local or a script global."""

    local: bool
    name: str


# ---------------------------------------------------------------- instructions


@dataclass(slots=True)
class Instr:
    """Base of all instructions. ``resume`` is where ``ON ERROR RESUME NEXT`` continues
    when this instruction fails (the end of its statement); -1 means the next one."""

    line: int = 0
    resume: int = -1
    is_async: ClassVar[bool] = False

    def link(self, namespace: dict) -> None:
        """Replace function names by the compiled functions."""
        for name in self.__slots__:
            value = getattr(self, name)
            if name.endswith("fn") and isinstance(value, str):
                setattr(self, name, namespace[value])


@dataclass(slots=True)
class Region(Instr):
    """Run a generated native function (a pure statement sequence)."""

    fn: Any = None
    in_try: bool = False


@dataclass(slots=True)
class Eval(Instr):
    """``T[slot] = fn()`` — spill a pure value to a temporary."""

    fn: Any = None
    slot: int = 0


@dataclass(slots=True)
class Branch(Instr):
    """Jump to ``target`` when the truth of ``fn()`` equals ``when``."""

    fn: Any = None
    target: int = 0
    when: bool = False


@dataclass(slots=True)
class Jump(Instr):
    target: int = 0


@dataclass(slots=True)
class Keyword(Instr):
    """Call a keyword handler through the registry; the value goes to ``T[slot]``.

    ``args_fn`` returns the tuple of argument values (deferred ones are None there and
    built from ``deferred`` instead); ``seps``/``names`` describe each argument.
    """

    phrase: str = ""
    args_fn: Any = None
    seps: tuple = ()
    names: tuple = ()
    deferred: tuple = ()  # (index, function name / function, AST node)
    raw_args: tuple = ()
    slot: Optional[int] = None
    target: Optional[str] = None
    is_async: ClassVar[bool] = True

    def link(self, namespace: dict) -> None:
        Instr.link(self, namespace)
        self.deferred = tuple((i, namespace[f] if isinstance(f, str) else f, node)
                              for i, f, node in self.deferred)


@dataclass(slots=True)
class CallProc(Instr):
    """Call SUB/FUNCTION ``name`` of this program; its RETURN value goes to ``T[slot]``."""

    name: str = ""
    args_fn: Any = None
    slot: Optional[int] = None


@dataclass(slots=True)
class CallNamed(Instr):
    """``CALL name`` that is no procedure: run script ``name.bas`` if the bot has one."""

    name: str = ""
    args_fn: Any = None
    slot: Optional[int] = None
    is_async: ClassVar[bool] = True


@dataclass(slots=True)
class CallScript(Instr):
    """``CALL "x.bas", args``: run another script as a nested execution."""

    name_fn: Any = None
    args_fn: Any = None
    slot: Optional[int] = None
    is_async: ClassVar[bool] = True


@dataclass(slots=True)
class Return(Instr):
    """RETURN [value] / EXIT SUB / EXIT FUNCTION. A bare RETURN with ``gosub`` set returns
    from an active GOSUB first."""

    fn: Any = None
    gosub: bool = False


@dataclass(slots=True)
class EndScript(Instr):
    """End the current script level (top-level RETURN, EXIT, END, end of body)."""

    fn: Any = None


@dataclass(slots=True)
class ForPrep(Instr):
    """Evaluate FOR bounds once (``fn`` returns start, end, step — step None for 1):
    ``T[slot..slot+2] = end, step, pass count``; var = start."""

    var: VarRef = None
    fn: Any = None
    slot: int = 0


@dataclass(slots=True)
class ForTest(Instr):
    """Leave the FOR loop (jump to ``target``) when var is past the end; count the pass."""

    var: VarRef = None
    slot: int = 0
    target: int = 0


@dataclass(slots=True)
class ForNext(Instr):
    """``var = var + step``."""

    var: VarRef = None
    slot: int = 0


@dataclass(slots=True)
class EachPrep(Instr):
    """``T[slot] = snapshot of the collection; T[slot+1] = 0``."""

    fn: Any = None
    slot: int = 0


@dataclass(slots=True)
class EachNext(Instr):
    """Bind the next element to var, or jump to ``target`` when none is left."""

    var: VarRef = None
    slot: int = 0
    target: int = 0


@dataclass(slots=True)
class LoopPrep(Instr):
    """``T[slot] = 0`` — the pass counter of a DO/WHILE loop."""

    slot: int = 0


@dataclass(slots=True)
class LoopCount(Instr):
    """Count one pass of a DO/WHILE loop against the iteration limit."""

    slot: int = 0


@dataclass(slots=True)
class Clear(Instr):
    """Drop loop temporaries (so saved states do not carry finished loops)."""

    slots: tuple = ()


@dataclass(slots=True)
class Gosub(Instr):
    target: int = 0


@dataclass(slots=True)
class OnError(Instr):
    """``ON ERROR RESUME NEXT`` / ``GOTO 0`` / ``GOTO label`` (target)."""

    mode: str = "resume_next"
    target: int = -1


@dataclass(slots=True)
class CatchBind(Instr):
    """Bind the error caught by a TRY to ``var`` as ``{message, number}``."""

    var: Optional[VarRef] = None


INSTRUCTIONS = (Region, Eval, Branch, Jump, Keyword, CallProc, CallNamed, CallScript, Return,
                EndScript, ForPrep, ForTest, ForNext, EachPrep, EachNext, LoopPrep, LoopCount,
                Clear, Gosub, OnError, CatchBind)


# ---------------------------------------------------------------- program


@dataclass(frozen=True, slots=True)
class ProcInfo:
    """A SUB or FUNCTION: where its code starts and how to bind its parameters."""

    name: str
    params: tuple[str, ...]
    entry: int
    is_function: bool
    ntemps: int


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """A PARAM declaration as the runtime needs it (binding CALL and tool arguments)."""

    name: str          # normalised variable name
    raw: str           # written case (tool argument names)
    type: str = "STRING"
    default_fn: Any = None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class TryRange:
    """Instructions ``start <= pc < end`` are the body of a TRY whose CATCH is at ``catch``."""

    start: int
    end: int
    catch: int


@dataclass
class Program:
    """One compiled ``.bas`` script. ``hash`` identifies it in saved executions."""

    name: str
    file: str
    hash: str
    code: list
    ntemps: int
    procedures: dict[str, ProcInfo] = field(default_factory=dict)
    params: tuple[ParamInfo, ...] = ()
    try_ranges: tuple[TryRange, ...] = ()
    python_source: str = ""

    def line_of(self, pc: int) -> int:
        """The source line of instruction ``pc``."""
        return self.code[pc].line if 0 <= pc < len(self.code) else 0

    def try_range_at(self, pc: int) -> Optional[TryRange]:
        """The innermost TRY whose body contains instruction ``pc``."""
        best = None
        for r in self.try_ranges:
            if r.start <= pc < r.end and (best is None or r.start >= best.start):
                best = r
        return best


class ProgramStore:
    """Compiled programs by hash, so a saved execution finishes on the version it began
    with; ``latest(name)`` is the newest program registered under a script name."""

    def __init__(self, programs: Optional[list] = None):
        self._by_hash: dict[str, Program] = {}
        self._latest: dict[str, Program] = {}
        for program in programs or ():
            self.add(program)

    def add(self, program: Program) -> Program:
        self._by_hash[program.hash] = program
        self._latest[program.name.lower()] = program
        return program

    def get(self, program_hash: str) -> Optional[Program]:
        return self._by_hash.get(program_hash)

    def __getitem__(self, program_hash: str) -> Program:
        return self._by_hash[program_hash]

    def __contains__(self, program_hash: str) -> bool:
        return program_hash in self._by_hash

    def latest(self, name: str) -> Optional[Program]:
        return self._latest.get(name.lower())

    def resolver(self) -> Callable[[str], Optional[Program]]:
        """A ``resolve_script`` function over the latest programs."""
        return self.latest
