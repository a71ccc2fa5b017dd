"""Conformance: the real scripts of the shared corpus compile (DIALECT §12.4)."""
import pytest

from botbasic.interpreter import analyze_file
from corpus_helpers import BROKEN, corpus_scripts, needs_corpus, relative

pytestmark = [pytest.mark.corpus, needs_corpus]

SCRIPTS = corpus_scripts()


@pytest.mark.parametrize("path", SCRIPTS, ids=relative)
def test_compiles_in_strict_mode_unless_known_broken(path):
    result = analyze_file(path)
    if relative(path) in BROKEN:
        assert not result.ok, "a script listed in DIALECT A-58 compiled in strict mode"
    else:
        assert result.ok, "\n".join(str(d) for d in result.errors)


@pytest.mark.parametrize("path", sorted(p for p in SCRIPTS if relative(p) in BROKEN), ids=relative)
def test_known_broken_scripts_compile_in_lenient_mode(path):
    result = analyze_file(path, lenient=True)
    assert result.ok, "\n".join(str(d) for d in result.errors)
    assert result.warnings


def test_the_corpus_is_complete():
    assert len(SCRIPTS) >= 183
    assert {relative(p) for p in SCRIPTS} >= BROKEN


def _info(suffix):
    path = next(p for p in SCRIPTS if relative(p).endswith(suffix))
    return analyze_file(path).info


def test_tool_schema_of_create_ticket():
    schema = _info("helpdesk.gbai/helpdesk.gbdialog/create-ticket.bas").tool_schema()["function"]
    assert list(schema["parameters"]["properties"]) == ["description", "category", "priority"]
    assert schema["parameters"]["required"] == ["description"]
    assert schema["parameters"]["properties"]["category"]["example"] == "hardware"


def test_static_declarations():
    assert [s.cron for s in _info("bling.gbdialog/sync-erp.bas").schedules] == ["30 22 * * *"]
    assert _info("office.gbdialog/api-integration.bas").webhooks
