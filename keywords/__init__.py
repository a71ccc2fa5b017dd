"""botbasic.keywords: the registry, the keyword catalog, the families that implement
keywords, and the built-in functions.

``default_registry()`` builds the engine's registry: every catalogued keyword declared
(catalog.py), the built-in functions (functions.py), then each implemented keyword family.
A family's handler takes over the declared spec of its phrase — shapes, connectors and
flags stay those of the catalog, which the front end checks calls against — and a phrase
the catalog does not know is added with the family's own spec.
"""
from __future__ import annotations

import importlib
from dataclasses import replace
from types import ModuleType

from .registry import SPEC_ATTR, KeywordSpec, Registry

# The keyword families, in registration order. A family that is not written yet is skipped.
FAMILY_MODULES = ("conversation", "memory", "http", "files", "data", "data_collections", "mail", "llm", "llm_helpers",
                  "tools", "kb")


def default_registry() -> Registry:
    """A new registry with the catalog, the built-in functions and every family."""
    registry = Registry()
    _optional(".catalog", lambda m: m.declare_all(registry))
    _optional(".functions", lambda m: m.load_functions(registry))
    for name in FAMILY_MODULES:
        _optional("." + name, lambda m: add_family(registry, m))
    return registry


def add_family(registry: Registry, module: ModuleType) -> None:
    """Register the keyword handlers of ``module`` (see module doc)."""
    for obj in list(vars(module).values()):
        spec = getattr(obj, SPEC_ATTR, None)
        if isinstance(spec, KeywordSpec):
            _implement(registry, spec)


def _implement(registry: Registry, spec: KeywordSpec) -> None:
    declared = registry.keywords.get(spec.phrase)
    if declared is None:
        registry.add_keyword(spec)
        return
    implemented = replace(declared, handler=spec.handler)
    registry.add_keyword(implemented, replace_declared=True)
    # Aliases were registered pointing at the declared spec: point them at the new one.
    for phrase, existing in list(registry.keywords.items()):
        if existing is declared:
            registry.keywords[phrase] = registry.keywords[spec.phrase]


def _optional(module_name: str, use) -> None:
    """Import a sibling module and hand it to ``use``; a module not written yet is skipped."""
    try:
        module = importlib.import_module(module_name, __name__)
    except ModuleNotFoundError as exc:
        if exc.name != __name__ + module_name:
            raise
        return
    use(module)
