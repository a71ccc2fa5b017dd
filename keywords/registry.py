"""Registries of keywords and built-in functions.

Modelled on pluggy: the decorators ``@keyword(...)`` and ``@function(...)`` only attach a
spec to the decorated callable; ``Registry.add_module`` collects the specs of a module and
validates each one as it registers it (names normalised, shapes compile, no duplicates).

Keywords are keyed by their normalised phrase: upper case, single spaces
(``SET BOT MEMORY``). The underscore spelling (``SET_BOT_MEMORY``) is derived
automatically. A keyword may be declared without an implementation (``declare``); it then
parses and is checked against its shapes, and running it raises a clear runtime error.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any, Callable, Iterable, Optional

SPEC_ATTR = "__botbasic_spec__"


def normalize_phrase(text: str) -> str:
    """``set_bot  memory`` -> ``SET BOT MEMORY``."""
    return " ".join(text.replace("_", " ").upper().split())


def normalize_name(text: str) -> str:
    """Function and variable names: lower case, trailing ``$`` dropped."""
    return text.rstrip("$").lower()


def shape_of(args) -> str:
    """The shape string of a keyword call's arguments (see ``KeywordSpec``).

    ``args`` is a sequence of objects with ``sep`` (None, "," or a connector word) and
    ``expr`` (None for a bare connector). ``SEND MAIL a, b, c USING d`` -> ``x,x,x USING x``;
    ``PARAM p AS STRING OPTIONAL`` -> ``x AS x OPTIONAL``; ``x = HEAR AS INTEGER`` -> ``AS x``.
    """
    parts = []
    for arg in args:
        if arg.sep == ",":
            parts.append(",")
        elif arg.sep:
            parts.append(f" {arg.sep} ")
        if arg.expr is not None:
            parts.append("x")
    return " ".join("".join(parts).split())


class RegistryError(ValueError):
    """A spec that cannot be registered (bad shape, duplicate name ...)."""


@dataclass(frozen=True)
class KeywordSpec:
    """What the front end and the runtime know about one keyword.

    ``shapes`` are regular expressions over the *shape string* of a call's arguments:
    ``x`` for each expression, ``,`` for a comma and `` WORD `` for a connector
    (``SEND MAIL a, b, c USING d`` has the shape ``x,x,x USING x``). A call matches when
    one shape matches the whole shape string. ``connectors`` are the words that separate
    arguments of this keyword (recognised only at bracket depth 0).
    ``value`` tells whether the keyword may be used for its result (``x = FIND ...``).
    ``suspends`` marks keywords that may wait for the user (HEAR): the VM saves its state.
    ``target`` marks keywords whose first argument is a variable to assign (``HEAR x``).
    """

    phrase: str
    shapes: tuple[str, ...] = ("(x(,x)*)?",)
    connectors: frozenset[str] = frozenset()
    value: bool = True
    statement: bool = True
    suspends: bool = False
    target: bool = False
    status: str = "core"  # core | compat | aspirational
    aliases: tuple[str, ...] = ()
    handler: Optional[Callable] = None
    section: str = ""
    _compiled: tuple[re.Pattern, ...] = field(default=(), compare=False, repr=False)

    def matches(self, shape: str) -> bool:
        # A shape that starts with a connector is written " AS x" in some patterns.
        return any(p.fullmatch(shape) or p.fullmatch(" " + shape) for p in self._compiled)

    def describe_shapes(self) -> str:
        """Human form of the accepted shapes, for "expected ..." diagnostics."""
        return " | ".join(self.phrase + " " + _humanize(s) for s in self.shapes)


def _humanize(shape: str) -> str:
    text = shape.replace("(x(,x)*)?", "[x, ...]").replace("(,x)*", ", ...")
    text = text.replace("x", "expr").replace(",", ", ")
    return re.sub(r"[()?*]", "", text).strip()


@dataclass(frozen=True)
class FunctionSpec:
    """A built-in function: names, arity, and how it is called.

    ``needs_ctx``: the callable takes the execution context first (clock, random, error
    state, session). ``lazy``: arguments are passed as zero-argument thunks (IIF).
    Functions are synchronous and never perform I/O.
    """

    names: tuple[str, ...]
    min_args: int = 0
    max_args: Optional[int] = None
    needs_ctx: bool = False
    lazy: bool = False
    bare: bool = False  # usable as a bare word (NOW, TODAY, PI ...)
    handler: Optional[Callable] = None


def keyword(phrase: str, *, shapes: Iterable[str] = ("(x(,x)*)?",), connectors: Iterable[str] = (),
            value: bool = True, statement: bool = True, suspends: bool = False,
            target: bool = False, status: str = "core", aliases: Iterable[str] = (),
            section: str = ""):
    """Attach a keyword spec to an async handler ``handler(ctx, call)``."""
    spec = KeywordSpec(normalize_phrase(phrase), tuple(shapes), frozenset(c.upper() for c in connectors),
                       value, statement, suspends, target, status,
                       tuple(normalize_phrase(a) for a in aliases), section=section)

    def attach(fn):
        setattr(fn, SPEC_ATTR, replace(spec, handler=fn))
        return fn

    return attach


def function(*names: str, min_args: int = 0, max_args: Optional[int] = None,
             needs_ctx: bool = False, lazy: bool = False, bare: bool = False):
    """Attach a built-in function spec to a synchronous callable."""
    spec = FunctionSpec(tuple(normalize_name(n) for n in names), min_args, max_args,
                        needs_ctx, lazy, bare)

    def attach(fn):
        setattr(fn, SPEC_ATTR, replace(spec, handler=fn))
        return fn

    return attach


class Registry:
    """All keywords and functions known to one engine."""

    def __init__(self) -> None:
        self.keywords: dict[str, KeywordSpec] = {}
        self.functions: dict[str, FunctionSpec] = {}
        self._phrase_index: dict[str, list[tuple[str, ...]]] = {}

    # -- registration
    def add_module(self, module: ModuleType) -> None:
        for obj in vars(module).values():
            spec = getattr(obj, SPEC_ATTR, None)
            if isinstance(spec, KeywordSpec):
                self.add_keyword(spec, replace_declared=True)
            elif isinstance(spec, FunctionSpec):
                self.add_function(spec)

    def declare(self, phrase: str, **kw: Any) -> None:
        """Declare a keyword without an implementation (it parses; running it errors)."""
        spec = getattr(keyword(phrase, **kw)(lambda ctx, call: None), SPEC_ATTR)
        self.add_keyword(replace(spec, handler=None))

    def add_keyword(self, spec: KeywordSpec, replace_declared: bool = False) -> None:
        spec = self._validated_keyword(spec)
        old = self.keywords.get(spec.phrase)
        if old is not None and not (replace_declared and old.handler is None):
            raise RegistryError(f"keyword {spec.phrase} registered twice")
        if old is not None:  # keep the declared shapes unless the implementation sets its own
            spec = replace(spec, aliases=tuple(set(spec.aliases) | set(old.aliases)))
        self.keywords[spec.phrase] = spec
        for alias in spec.aliases:
            self.keywords.setdefault(alias, spec)
        self._phrase_index.clear()

    def add_function(self, spec: FunctionSpec) -> None:
        if spec.handler is None or not callable(spec.handler):
            raise RegistryError(f"function {spec.names} has no callable")
        if spec.max_args is not None and spec.max_args < spec.min_args:
            raise RegistryError(f"function {spec.names[0]}: max_args < min_args")
        for name in spec.names:
            if name in self.functions:
                raise RegistryError(f"function {name.upper()} registered twice")
            self.functions[name] = spec

    def _validated_keyword(self, spec: KeywordSpec) -> KeywordSpec:
        if not spec.phrase or not re.fullmatch(r"[A-Z][A-Z0-9]*( [A-Z0-9]+)*", spec.phrase):
            raise RegistryError(f"bad keyword phrase {spec.phrase!r}")
        if spec.handler is not None and not inspect.iscoroutinefunction(spec.handler):
            raise RegistryError(f"keyword {spec.phrase}: handler must be async")
        if spec.status not in ("core", "compat", "aspirational"):
            raise RegistryError(f"keyword {spec.phrase}: bad status {spec.status!r}")
        try:
            compiled = tuple(re.compile(s) for s in spec.shapes)
        except re.error as exc:
            raise RegistryError(f"keyword {spec.phrase}: bad shape ({exc})") from None
        for shape in spec.shapes:
            for word in re.findall(r"[A-Z][A-Z ]*[A-Z]|[A-Z]", shape):
                if word.strip() not in spec.connectors:
                    raise RegistryError(f"keyword {spec.phrase}: shape uses {word!r}, not a connector")
        return replace(spec, _compiled=compiled)

    # -- lookup
    def keyword_spec(self, phrase: str) -> Optional[KeywordSpec]:
        return self.keywords.get(normalize_phrase(phrase))

    def function_spec(self, name: str) -> Optional[FunctionSpec]:
        return self.functions.get(normalize_name(name))

    def phrases_starting_with(self, first_word: str) -> list[tuple[str, ...]]:
        """Keyword phrases (as word tuples, longest first) whose first word is given."""
        if not self._phrase_index:
            index: dict[str, list[tuple[str, ...]]] = {}
            for phrase in self.keywords:
                words = tuple(phrase.split(" "))
                index.setdefault(words[0], []).append(words)
            for lst in index.values():
                lst.sort(key=len, reverse=True)
            self._phrase_index = index
        return self._phrase_index.get(first_word.upper(), [])
