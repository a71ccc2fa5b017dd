"""Bot packages on disk (DIALECT §1.1–§1.3, §1.6 matching rules)."""
import os
from pathlib import Path

import pytest

from botbasic.runtime.package import find_packages, load_package, script_name

CORPUS = Path(os.environ.get("BOTBASIC_CORPUS", "/work/shared/corpus"))
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"corpus folder {CORPUS} not found (set BOTBASIC_CORPUS)"
)
BOTS = CORPUS / "generalbots" / "bottemplates" / "bots"
CORPUS_PACKAGES = find_packages(CORPUS) if CORPUS.is_dir() else []


# ---------------------------------------------------------------- the corpus


@pytest.mark.corpus
@needs_corpus
def test_find_packages_lists_every_gbai_folder_sorted():
    expected = sorted(path for path in CORPUS.rglob("*.gbai") if path.is_dir())
    assert CORPUS_PACKAGES == expected


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("path", CORPUS_PACKAGES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_package_loads(path):
    package = load_package(path)
    assert package.name == path.name[: -len(".gbai")]
    assert package.root == path
    for name, file in package.scripts.items():
        assert file.is_file() and name == script_name(file.name)
    assert package.entry is None or package.entry in package.scripts
    if package.name != "crawler":  # the one script-less bot: LLM + website crawler
        assert package.scripts


@pytest.mark.corpus
@needs_corpus
def test_announcements_uses_the_misspelled_gbot_folder():
    package = load_package(BOTS / "communications/announcements.gbai")
    assert package.name == "announcements"
    assert package.bot_dir.name == "annoucements.gbot"
    assert package.config.get("theme-title") == "Announcements General Bots"
    assert sorted(package.scripts) == ["auth", "change-subject", "start", "update-summary"]
    assert package.entry == "start"
    assert package.warnings == [
        "folder annoucements.gbot does not match the bot name 'announcements'; using it anyway"
    ]


@pytest.mark.corpus
@needs_corpus
def test_campaign_manager_uses_the_marketing_dialog_folder():
    package = load_package(BOTS / "sales/campaign-manager.gbai")
    assert package.name == "campaign-manager"
    assert package.dialog_dir.name == "marketing.gbdialog"
    assert package.config.get("bot-name") == "Marketing Automation Assistant"
    assert sorted(package.scripts) == [
        "add-new-idea", "broadcast", "create-campaign", "create-dynamic-list",
        "create-template", "get-image", "list-campaigns", "list-templates", "post-to-instagram",
        "poster", "send-campaign", "start",
    ]
    assert package.entry == "start"
    assert len(package.warnings) == 2
    assert all("does not match the bot name 'campaign-manager'" in w for w in package.warnings)


@pytest.mark.corpus
@needs_corpus
def test_marketing_scans_nested_dialog_folders():
    package = load_package(BOTS / "sales/marketing.gbai")
    dialog = package.dialog_dir
    assert package.scripts["welcome-campaign"] == dialog / "campaigns" / "welcome-campaign.bas"
    assert package.scripts["lead-nurture-campaign"] == dialog / "campaigns" / "lead-nurture-campaign.bas"
    assert package.scripts["poster"] == dialog / "poster.bas"
    assert len(package.scripts) == 8
    assert package.entry is None
    assert package.warnings == []


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("relative", [
    "communications/quick-broadcast.gbai", "hr/employee-engage.gbai", "hr/team-feedback.gbai",
])
def test_default_gbdialog_file_is_the_default_script(relative):
    package = load_package(BOTS / relative)
    assert package.scripts == {"default": BOTS / relative / "default.gbdialog"}
    assert package.entry == "default"
    assert package.dialog_dir is None and package.bot_dir is None
    assert package.warnings == []


@pytest.mark.corpus
@needs_corpus
def test_default_gbdialog_folder_is_a_dialog_folder():
    package = load_package(BOTS / "core/default.gbai")
    assert package.dialog_dir.name == "default.gbdialog" and package.dialog_dir.is_dir()
    assert sorted(package.scripts) == ["calculate", "send-email", "send-sms", "translate", "weather"]
    assert package.entry is None


@pytest.mark.corpus
@needs_corpus
def test_bank_has_a_root_level_start_script():
    package = load_package(BOTS / "finance/bank.gbai")
    assert package.scripts == {"start": BOTS / "finance/bank.gbai/start.bas"}
    assert package.entry == "start"
    assert package.kb_dir == BOTS / "finance/bank.gbai/bank.gbkb"
    assert package.dialog_dir is None and len(package.config) == 0


@pytest.mark.corpus
@needs_corpus
def test_legacy_start_dialog_key_and_subfolders():
    package = load_package(BOTS / "ai/llm-tools.gbai")
    assert package.config.get("Start Dialog") == "start"
    assert package.entry == "start"
    assert sorted(package.scripts) == ["get-price", "start"]


# ---------------------------------------------------------------- synthetic layouts


def make_tree(root: Path, files: dict[str, str]) -> Path:
    """Create ``files`` (relative path -> text) below ``root``; return ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_closer_file_wins_a_stem_clash(tmp_path):
    root = make_tree(tmp_path / "shop.gbai", {
        "shop.gbdialog/tools/deep/report.bas": "TALK 1",
        "shop.gbdialog/handlers/Report.bas": "TALK 2",
        "shop.gbdialog/start.bas": "TALK 3",
        "start.bas": "TALK 4",
    })
    package = load_package(root)
    assert package.scripts == {
        "report": root / "shop.gbdialog/handlers/Report.bas",
        "start": root / "shop.gbdialog/start.bas",
    }
    assert package.warnings == [
        "several files define script 'report'; using shop.gbdialog/handlers/Report.bas, "
        "ignoring shop.gbdialog/tools/deep/report.bas",
        "several files define script 'start'; using shop.gbdialog/start.bas, ignoring start.bas",
    ]


def test_folder_named_after_the_bot_is_preferred(tmp_path):
    root = make_tree(tmp_path / "shop.gbai", {
        "aaa.gbdialog/x.bas": "",
        "shop.gbdialog/y.bas": "",
        "shop.gbkb/faq/q.md": "",
        "files.gbdrive/a.txt": "",
        "shop.gbdata/products.csv": "",
    })
    package = load_package(root)
    assert package.dialog_dir == root / "shop.gbdialog"
    assert list(package.scripts) == ["y"]
    assert package.kb_dir == root / "shop.gbkb"
    assert package.drive_dir == root / "files.gbdrive"
    assert package.data_dir == root / "shop.gbdata"
    assert package.warnings == [
        "several .gbdialog folders; using shop.gbdialog, ignoring aaa.gbdialog",
        "folder files.gbdrive does not match the bot name 'shop'; using it anyway",
    ]


@pytest.mark.parametrize(
    "files, entry",
    [
        ({"b.gbdialog/start.bas": "", "b.gbdialog/default.bas": ""}, "start"),
        ({"b.gbdialog/start.bas": "", "b.gbdialog/welcome.bas": "",
          "b.gbot/config.csv": "name,value\nStart Dialog,welcome.bas\n"}, "welcome"),
        ({"b.gbdialog/main.bas": "", "config.json": '{"entry_dialog": "main.bas"}'}, "main"),
        ({"b.gbdialog/tool.bas": "", "default.gbdialog": "TALK 1"}, "default"),
        ({"b.gbdialog/tool.bas": ""}, None),
        ({}, None),
    ],
)
def test_entry_script_precedence(tmp_path, files, entry):
    package = load_package(make_tree(tmp_path / "b.gbai", files) if files else _empty(tmp_path))
    assert package.entry == entry


def _empty(tmp_path: Path) -> Path:
    (tmp_path / "b.gbai").mkdir()
    return tmp_path / "b.gbai"


def test_missing_configured_entry_warns_and_falls_back(tmp_path):
    root = make_tree(tmp_path / "b.gbai", {
        "b.gbdialog/start.bas": "",
        "b.gbot/config.csv": "name,value\nStart Dialog,welcome\n",
        "config.json": "{not json",
    })
    package = load_package(root)
    assert package.entry == "start"
    assert package.warnings[0] == "Start Dialog names script 'welcome', which does not exist"
    assert package.warnings[1].startswith("config.json is not valid JSON")


@pytest.mark.parametrize("prompt_file", ["PROMPT.md", "prompt.md", "PROMPT.txt", "prompt.txt"])
def test_prompt_file(tmp_path, prompt_file):
    root = make_tree(tmp_path / "b.gbai", {f"b.gbot/{prompt_file}": "You are helpful."})
    assert load_package(root).prompt == "You are helpful."


def test_no_prompt_and_no_config(tmp_path):
    package = load_package(_empty(tmp_path))
    assert package.prompt is None and len(package.config) == 0 and package.scripts == {}


def test_find_packages_does_not_descend_into_a_package(tmp_path):
    make_tree(tmp_path, {
        "b/two.gbai/two.gbdialog/start.bas": "",
        "a/one.gbai/inner.gbai/x.bas": "",
        "not-a-package/readme.md": "",
        "file.gbai": "a file, not a folder",
    })
    assert find_packages(tmp_path) == [tmp_path / "a/one.gbai", tmp_path / "b/two.gbai"]


def test_load_package_rejects_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_package(tmp_path / "none.gbai")


@pytest.mark.parametrize(
    "file_name, name",
    [("Create-Ticket.bas", "create-ticket"), ("default.gbdialog", "default"),
     ("start", "start"), ("x.BAS", "x")],
)
def test_script_name(file_name, name):
    assert script_name(file_name) == name
