"""config.csv parsing (DIALECT §1.4.1) and param-* script variables (§1.4.2)."""
import os
from pathlib import Path

import pytest

from botbasic.runtime.config import BotConfig, load_config, normalize_key, parse_config_text

CORPUS = Path(os.environ.get("BOTBASIC_CORPUS", "/work/shared/corpus"))
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"corpus folder {CORPUS} not found (set BOTBASIC_CORPUS)"
)
BOTS = CORPUS / "generalbots" / "bottemplates" / "bots"
CORPUS_CONFIGS = sorted(CORPUS.rglob("config.csv")) if CORPUS.is_dir() else []


# ---------------------------------------------------------------- the corpus


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("path", CORPUS_CONFIGS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_config_parses(path):
    config = load_config(path)
    assert len(config) > 0
    for key, value in config.items():
        assert key and key == key.strip() and value == value.strip()
        assert not key.startswith("#") and key.lower() not in ("name", "key")
        assert config.get(key) == value


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize(
    "relative, key, expected",
    [
        ("legal/hipaa-medical.gbai/hipaa.gbot", "welcome-message",
         "Welcome to the Healthcare Privacy Center. I can help you with your patient rights under "
         "HIPAA, including accessing your medical records, requesting amendments, and managing "
         "your health information privacy."),
        ("legal/hipaa-medical.gbai/hipaa.gbot", "BOT_NAME", "HIPAA Medical Privacy Center"),
        ("education/edu.gbai/edu.gbot", "theme-color", "indigo"),
        ("ai/llm-tools.gbai/llm-tools.gbot", "Theme Color", "teal"),
        ("ai/llm-server.gbai/llm-server.gbot", "start-dialog", "start"),
        ("core/default.gbai/default.gbot", "server-host", "0.0.0.0"),
        ("core/crawler.gbai/crawler.gbot", "website-max-documents", "2"),
        ("core/talk-to-data.gbai/talk-to-data.gbot", "admin", "5521999998888"),
        ("communications/office.gbai/office.gbot", "bot-name", "Office Assistant"),
        ("sales/attendance-crm.gbai/attendance-crm.gbot", "lead-score-threshold-hot", "70"),
    ],
)
def test_corpus_golden_values(relative, key, expected):
    assert load_config(BOTS / relative).get(key) == expected


@pytest.mark.corpus
@needs_corpus
def test_bling_param_variables():
    variables = load_config(BOTS / "core/bling.gbai/bling.gbot/config.csv").script_variables()
    assert variables == {
        "blingclientid": "",
        "blingclientsecret": "",
        "blinghost": "https://api.bling.com.br/Api/v3",
        "blingtenant": "",
        "host": "https://api.bling.com.br/Api/v3",
        "limit": 100,
        "pages": 50,
        "admin1": "admin@yourdomain.com",
        "admin2": "admin2@yourdomain.com",
    }


# ---------------------------------------------------------------- parsing rules


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name,value\nbot-name,Demo\n", [("bot-name", "Demo")]),
        ("key,value\nbot-name,Demo\n", [("bot-name", "Demo")]),
        ("Name , Value\nbot-name,Demo\n", [("bot-name", "Demo")]),
        ("\ufeffname,value\nbot-name,Demo\n", [("bot-name", "Demo")]),
        ("bot-name,Demo\n", [("bot-name", "Demo")]),
        ("name,value\r\nbot-name,Demo\r\nllm-model,gpt\r\n", [("bot-name", "Demo"), ("llm-model", "gpt")]),
        ("name,value\n,\n , ,\n\n# comment, with comma\n   # indented\nbot-name,Demo",
         [("bot-name", "Demo")]),
        ("\n\n# intro\nname,value\nbot-name,Demo\n", [("bot-name", "Demo")]),
        ("name,value\nWelcome Message,Hi, I can help, really.\n",
         [("Welcome Message", "Hi, I can help, really.")]),
        ("name,value\n  Theme Color ,  teal  \n", [("Theme Color", "teal")]),
        ('name,value\nbot-name,"Quoted, with ""inner"" quotes"\n',
         [("bot-name", 'Quoted, with "inner" quotes')]),
        ('name,value\nbot-name,"unbalanced\n', [("bot-name", '"unbalanced')]),
        ("name,value\nparam-x,\n", [("param-x", "")]),
        ("name,value\nlonely-key\n", [("lonely-key", "")]),
        ("name,value\n,orphan value\n", []),
        ("name,value\nsecond,line\nname,value\n", [("second", "line"), ("name", "value")]),
    ],
)
def test_parsing_rules(text, expected):
    assert parse_config_text(text).items() == expected


@pytest.mark.parametrize(
    "written, lookup",
    [
        ("Bot Name", "bot-name"),
        ("bot-name", "Bot Name"),
        ("Start Dialog", "start_dialog"),
        ("server_host", "server-host"),
        ("website Max Documents", "WEBSITE-MAX-DOCUMENTS"),
        ("llm  File", "llm-file"),
    ],
)
def test_keys_are_case_and_separator_insensitive(written, lookup):
    config = parse_config_text(f"name,value\n{written},yes\n")
    assert config.get(lookup) == "yes"
    assert lookup in config


def test_normalize_key():
    assert normalize_key("  Answer_Mode ") == "answer-mode"
    assert normalize_key("conn-crm-Server") == "conn-crm-server"


def test_later_duplicates_win_with_their_spelling():
    config = parse_config_text("name,value\nBot Name,Old\nllm-model,a\nbot-name,New\n")
    assert config.get("Bot Name") == "New"
    assert config.items() == [("bot-name", "New"), ("llm-model", "a")]


def test_missing_keys_give_the_default():
    config = parse_config_text("name,value\na,1\n")
    assert config.get("b") is None
    assert config.get("b", "x") == "x"
    assert "b" not in config


@pytest.mark.parametrize(
    "value, as_bool, as_int, as_float",
    [
        ("true", True, None, None),
        ("FALSE", False, None, None),
        ("yes", True, None, None),
        ("1", True, 1, 1.0),
        ("0", False, 0, 0.0),
        ("3600", None, 3600, 3600.0),
        ("-7", None, -7, -7.0),
        ("0.95", None, None, 0.95),
        ("teal", None, None, None),
        ("", None, None, None),
    ],
)
def test_typed_getters(value, as_bool, as_int, as_float):
    config = parse_config_text(f"name,value\nk,{value}\n")
    assert config.get_bool("k") is as_bool
    assert config.get_int("k") == as_int
    assert config.get_float("k") == as_float


def test_typed_getters_defaults():
    config = BotConfig()
    assert config.get_bool("missing", False) is False
    assert config.get_int("missing", 10) == 10
    assert config.get_float("missing", 0.5) == 0.5


@pytest.mark.parametrize(
    "line, variables",
    [
        ("param-limit,100", {"limit": 100}),
        ("param-ratio,0.25", {"ratio": 0.25}),
        ("param-negative,-3", {"negative": -3}),
        ("param-flag,TRUE", {"flag": True}),
        ("param-off,false", {"off": False}),
        ("param-empty,", {"empty": ""}),
        ("param-host,https://x.test/api", {"host": "https://x.test/api"}),
        ("param-blingClientID,abc", {"blingclientid": "abc"}),
        ("param-phone,5521999998888", {"phone": 5521999998888}),
        ("Param_Admin,a@b.c", {"admin": "a@b.c"}),
        ("param-list,a,b,c", {"list": "a,b,c"}),
        ("params,1", {}),
        ("bot-name,x", {}),
    ],
)
def test_param_variables_are_typed(line, variables):
    assert parse_config_text(f"name,value\n{line}\n").script_variables() == variables


def test_param_duplicates_take_the_later_value():
    config = parse_config_text("name,value\nparam-limit,1\nparam_limit,2\n")
    assert config.script_variables() == {"limit": 2}


def test_load_config_missing_file_is_empty(tmp_path):
    assert len(load_config(tmp_path / "nope" / "config.csv")) == 0


def test_load_config_accepts_the_gbot_folder(tmp_path):
    folder = tmp_path / "x.gbot"
    folder.mkdir()
    (folder / "config.csv").write_bytes("\ufeffname,value\nbot-name,Olá\n".encode("utf-8"))
    assert load_config(folder).get("bot-name") == "Olá"
    assert load_config(folder / "config.csv").get("bot-name") == "Olá"
