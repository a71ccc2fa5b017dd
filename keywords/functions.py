"""The built-in functions of DIALECT §10, one module per family."""
from __future__ import annotations

from . import (functions_arrays, functions_convert, functions_dates, functions_math,
               functions_misc, functions_strings)
from ..runtime.errors import BasicError
from .registry import FunctionSpec, Registry

FUNCTION_MODULES = (functions_strings, functions_math, functions_dates, functions_convert,
                    functions_arrays, functions_misc)


def load_functions(registry: Registry) -> Registry:
    """Register every built-in function family on ``registry`` and return it."""
    for module in FUNCTION_MODULES:
        registry.add_module(module)
    return registry


def default_function_registry() -> Registry:
    """A new registry holding the built-in functions only (handy for tests and tools)."""
    return load_functions(Registry())


_DEFAULT_REGISTRY: Registry | None = None


def call_builtin(name: str, *args, ctx=None, registry: Registry | None = None):
    """Call built-in ``name`` the way the VM does: arity checked, ``ctx`` passed first when
    the function needs it, arguments of lazy functions wrapped in thunks.

    A convenience for tests, tools and hosts; the VM may call specs directly.
    """
    spec = (registry or _default_registry()).function_spec(name)
    if spec is None:
        raise BasicError(f"unknown function {name.upper()}")
    _check_arity(spec, name, len(args))
    if spec.lazy:
        args = tuple(_thunk(arg) for arg in args)
    return spec.handler(ctx, *args) if spec.needs_ctx else spec.handler(*args)


def _default_registry() -> Registry:
    global _DEFAULT_REGISTRY
    if _DEFAULT_REGISTRY is None:
        _DEFAULT_REGISTRY = default_function_registry()
    return _DEFAULT_REGISTRY


def _check_arity(spec: FunctionSpec, name: str, count: int) -> None:
    too_many = spec.max_args is not None and count > spec.max_args
    if count < spec.min_args or too_many:
        raise BasicError(f"{name.upper()}: wrong number of arguments ({count})")


def _thunk(arg):
    """Lazy arguments: callables are already thunks, plain values are wrapped."""
    return arg if callable(arg) else (lambda: arg)
