"""File keywords (§9.8) on a real drive folder in tmp_path: READ, WRITE, COPY, MOVE,
DELETE FILE, LIST, DIR, UPLOAD, DOWNLOAD, GET of drive files (§9.7.1 rule 4), and the path
validation of the drive (§1.5) — every way out of the drive is refused."""
from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from botbasic.runtime.errors import BasicError
from botbasic.runtime.memory_store import InMemoryStore
from botbasic.runtime.services.drive import Drive, split_drive_path
from botbasic.runtime.services.http import EgressPolicy, HttpService

from http_support import local_server
from vm_support import run_script


@pytest.fixture(scope="module")
def http_server():
    with local_server() as server:
        yield server


@pytest.fixture
def drive_dir(tmp_path) -> Path:
    folder = tmp_path / "bot.gbdrive"
    folder.mkdir()
    return folder


def services(drive_dir: Path, **extra) -> SimpleNamespace:
    http = HttpService(policy=EgressPolicy.from_setting("127.0.0.1"))
    return SimpleNamespace(memory=InMemoryStore(), http=http, drive=Drive(drive_dir, **extra))


def run(drive_dir: Path, source: str, **extra):
    return run_script(source, services=services(drive_dir, **extra))


def talk(drive_dir: Path, source: str, **extra) -> list[str]:
    transcript = run(drive_dir, source, **extra)
    assert transcript.error is None, transcript.error
    return transcript.messages


# ---------------------------------------------------------------- READ and WRITE


def test_write_both_argument_orders_and_read(drive_dir):
    source = ('WRITE "notes/a.txt", "first"\nWRITE "second" TO "/notes/b.txt"\n'
              'a = READ "notes/a.txt"\nb = READ "notes/b.txt"\nTALK a + " " + b')
    assert talk(drive_dir, source) == ["first second"]
    assert (drive_dir / "notes" / "a.txt").read_text() == "first"


def test_write_values_append_and_the_returned_file(drive_dir):
    source = ('f = WRITE "data/o.json", #{a: [1, 2]}\nTALK f.name + " " + f.size + " " + f.path\n'
              'WRITE "log.txt", "a"\nWRITE "log.txt", "b" APPEND\nWRITE 42 TO "log.txt" APPEND\n'
              'o = READ "data/o.json"\nTALK o.a[1]')
    assert talk(drive_dir, source) == ["o.json 11 data/o.json", "2"]
    assert (drive_dir / "log.txt").read_text() == "ab42"


def test_tables_and_lines(drive_dir):
    source = ('rows = [#{name: "Ann", age: 30}, #{name: "Bo, Jr", city: "Rio"}]\n'
              'WRITE rows TO "people.csv" AS TABLE\n'
              'more = [#{name: "Cy", age: 5}]\nWRITE "people.csv", more AS TABLE APPEND\n'
              't = READ "people.csv" AS TABLE\nTALK LEN(t)\nTALK t[1].name + "|" + t[2].age\n'
              'WRITE "l.txt", ["x", "y"] AS LINES\nl = READ "l.txt" AS LINES\nTALK l')
    assert talk(drive_dir, source) == ["3", "Bo, Jr|5", '["x","y"]']
    assert (drive_dir / "people.csv").read_text() == (
        'name,age,city\nAnn,30,\n"Bo, Jr",,Rio\nCy,5\n')


def test_read_semicolon_csv_and_json_tables(drive_dir):
    (drive_dir / "eu.csv").write_text("\ufeffa;b\n1;2\n\n3;4\n", encoding="utf-8")
    (drive_dir / "t.json").write_text('[{"k": 1}]')
    source = ('t = READ "eu.csv" AS TABLE\nTALK t\nj = READ "t.json" AS TABLE\nTALK j[0].k')
    assert talk(drive_dir, source) == ['[{"a":"1","b":"2"},{"a":"3","b":"4"}]', "1"]


def test_read_word_documents(drive_dir):
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    xml = (f'<w:document xmlns:w="{ns}"><w:body><w:p><w:r><w:t>Hello </w:t></w:r>'
           '<w:r><w:t>world</w:t></w:r></w:p><w:p><w:r><w:t>Bye</w:t></w:r></w:p></w:body></w:document>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", xml)
    (drive_dir / "letter.docx").write_bytes(buffer.getvalue())
    assert talk(drive_dir, 'x = READ "letter.docx"\nTALK x') == ["Hello world\nBye"]


def test_read_errors(drive_dir):
    (drive_dir / "bin.dat").write_bytes(b"\xff\xfe\x00")
    assert run(drive_dir, 'x = READ "nope.txt"').error == "main.bas:1: error: file not found: nope.txt"
    assert "not UTF-8 text" in run(drive_dir, 'x = READ "bin.dat"').error
    assert "expected AS TABLE or AS LINES" in run(drive_dir, 'x = READ "bin.dat" AS PDF').error


def test_file_keywords_without_a_drive():
    transcript = run_script('WRITE "a.txt", "x"', services=SimpleNamespace(memory=InMemoryStore()))
    assert transcript.error == "main.bas:1: error: the bot drive is not available in this version"


# ---------------------------------------------------------------- COPY, MOVE, DELETE FILE


def test_copy_move_and_delete(drive_dir):
    (drive_dir / "a.txt").write_text("A")
    source = ('TALK COPY("a.txt", "backup/a1.txt")\nCOPY "a.txt" TO "backup/"\n'
              'TALK MOVE("backup/a1.txt", "archive/old.txt")\nMOVE "archive" TO "moved"\n'
              'TALK DELETE FILE("a.txt")\nTALK DELETE FILE("a.txt")\nDELETE_FILE "backup"\n'
              'x = READ "moved/old.txt"\nTALK x')
    assert talk(drive_dir, source) == ["backup/a1.txt", "archive/old.txt", "true", "false", "A"]
    assert sorted(p.name for p in drive_dir.iterdir()) == ["moved"]


def test_copy_errors(drive_dir):
    (drive_dir / "d").mkdir()
    assert "file not found: missing.txt" in run(drive_dir, 'COPY "missing.txt", "x.txt"').error
    assert "into itself" in run(drive_dir, 'COPY "d", "d/inner"').error
    assert "root cannot be deleted" in run(drive_dir, 'DELETE FILE "/"').error


# ---------------------------------------------------------------- LIST and DIR


def test_list_filter_and_recursive(drive_dir):
    for name in ("docs/a.pdf", "docs/B.PDF", "docs/c.txt", "docs/sub/d.pdf"):
        (drive_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (drive_dir / name).write_text("x")
    source = ('TALK LIST("docs/")\nl = LIST "docs" FILTER "*.pdf"\nTALK l\n'
              'l = LIST "/docs/" FILTER "*.pdf" RECURSIVE\nTALK l\nl = LIST "docs/*.txt"\nTALK l\n'
              'l = LIST "nothing/"\nTALK l')
    assert talk(drive_dir, source) == ['["B.PDF","a.pdf","c.txt"]', '["B.PDF","a.pdf"]',
                                       '["B.PDF","a.pdf","sub/d.pdf"]', '["c.txt"]', "[]"]


def test_dir_entries_are_usable_as_paths(drive_dir):
    (drive_dir / "box" / "inner").mkdir(parents=True)
    (drive_dir / "box" / "n.txt").write_text("note")
    source = ('d = DIR "box"\nTALK d[1].name + " " + d[1].size + " " + d[1].path + " " + '
              'TYPEOF(d[1].modified)\nTALK d[0].is_dir\nx = READ d[1]\nTALK x')
    assert talk(drive_dir, source) == ["n.txt 4 box/n.txt datetime", "true", "note"]


# ---------------------------------------------------------------- UPLOAD and DOWNLOAD


def test_upload_drive_files(drive_dir):
    (drive_dir / "in.txt").write_text("payload")
    source = ('u = UPLOAD "in.txt"\nTALK u.path + " " + u.size + " " + u.mime_type\n'
              'u = UPLOAD "in.txt" TO "/reports/custom/"\nTALK u.path\n'
              'u = UPLOAD u, "final.txt"\nTALK u.path\n'
              'u = UPLOAD "in.txt" TO "named" AS "renamed.txt"\nTALK u.path + " " + u.name')
    assert talk(drive_dir, source) == ["uploads/in.txt 7 text/plain", "reports/custom/in.txt",
                                       "final.txt", "named/renamed.txt renamed.txt"]


def test_upload_and_download_from_urls(drive_dir, http_server):
    base = http_server.base
    source = (f'u = UPLOAD "{base}/files/a.txt" TO "in/"\nTALK u.path\n'
              f'f = DOWNLOAD "{base}/attachment"\nTALK f.path + " " + f.mime_type + " " + f.size\n'
              f'f = DOWNLOAD "{base}/files/b.txt", "saved/b2.txt"\nTALK f.name\n'
              f'f = DOWNLOAD "{base}/files/c%20d.txt" TO "saved/"\nTALK f.path\n'
              'x = READ "saved/b2.txt"\nTALK x')
    assert talk(drive_dir, source) == ["in/a.txt", "downloads/report.csv text/csv 8", "b2.txt",
                                       "saved/c d.txt", "content of b.txt"]


def test_download_obeys_headers_status_and_egress(drive_dir, http_server):
    failed = run(drive_dir, f'f = DOWNLOAD "{http_server.url("/status/404")}"')
    assert failed.error == "main.bas:1: error: HTTP 404: failure 404"
    blocked = run(drive_dir, 'f = DOWNLOAD "http://169.254.169.254/latest/user-data"')
    assert "blocked by the egress policy" in blocked.error
    source = (f'SET HEADER "X-Token", "t"\nf = DOWNLOAD "{http_server.url("/echo")}", "e.json"\n'
              'x = READ f\nTALK x.headers["X-Token"]')
    assert talk(drive_dir, source) == ["t"]


def test_download_as_link(drive_dir):
    (drive_dir / "r.pdf").write_bytes(b"%PDF")
    linked = talk(drive_dir, 'x = DOWNLOAD "r.pdf" AS LINK\nTALK x', base_url="https://bot.example/drive/")
    assert linked == ["https://bot.example/drive/r.pdf"]
    assert "public links" in run(drive_dir, 'x = DOWNLOAD "r.pdf" AS LINK').error
    assert "use SEND FILE" in run(drive_dir, 'x = DOWNLOAD "r.pdf", "x.pdf"').error


# ---------------------------------------------------------------- GET of drive files


def test_get_reads_drive_then_kb_files(tmp_path, drive_dir):
    kb = tmp_path / "bot.gbkb"
    (kb / "news").mkdir(parents=True)
    (kb / "news" / "today.txt").write_text("kb news")
    (drive_dir / "case-7.txt").write_text("case text")
    source = ('cod = 7\nx = GET "case-" + cod + ".txt"\nTALK x\nTALK GET("news/today.txt")\n'
              'TALK GET("bot.gbkb/news/today.txt")\nm = GET "missing.txt"\nTALK ISNULL(m)')
    assert talk(drive_dir, source, extra_roots=[kb]) == ["case text", "kb news", "kb news", "true"]


def test_get_of_an_unsafe_path_is_an_error(drive_dir):
    assert "unsafe drive path '../secret'" in run(drive_dir, 'x = GET "../secret"').error


# ---------------------------------------------------------------- escaping the drive


ESCAPES = ["../x", "a/../../x", "~/x", "docs/~root/x", "C:\\x", "C:/x", "/C:/x",
           "a\\..\\b", "file:///etc/passwd", "docs/*.txt"]


@pytest.mark.parametrize("path", ESCAPES)
@pytest.mark.parametrize("statement", ['x = READ "{p}"', 'WRITE "{p}", "x"', 'COPY "a.txt", "{p}"',
                                       'DELETE FILE "{p}"', 'x = DIR "{p}"'])
def test_escape_attempts_are_refused(drive_dir, path, statement):
    (drive_dir / "a.txt").write_text("a")
    transcript = run(drive_dir, statement.format(p=path))
    assert f"unsafe drive path '{path}'" in transcript.error
    assert sorted(p.name for p in drive_dir.iterdir()) == ["a.txt"]


def test_a_leading_slash_is_the_drive_root(drive_dir):
    missing = run(drive_dir, 'x = READ "/etc/passwd"')
    assert missing.error == "main.bas:1: error: file not found: /etc/passwd"
    source = 'WRITE "/etc/passwd", "mine"\nx = READ "etc/passwd"\nTALK x'
    assert talk(drive_dir, source) == ["mine"]
    assert (drive_dir / "etc" / "passwd").read_text() == "mine"


def test_symlinks_leading_outside_are_refused(tmp_path, drive_dir):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (drive_dir / "link").symlink_to(outside, target_is_directory=True)
    (drive_dir / "file-link.txt").symlink_to(outside / "secret.txt")
    for statement in ('x = READ "link/secret.txt"', 'x = READ "file-link.txt"',
                      'WRITE "link/new.txt", "x"', 'WRITE "link/deep/new.txt", "x"',
                      'COPY "link/secret.txt", "stolen.txt"', 'x = LIST "link"',
                      'x = GET "link/secret.txt"'):
        transcript = run(drive_dir, statement)
        assert "leads outside the bot drive" in transcript.error, statement
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert talk(drive_dir, 'TALK LIST("/")\nTALK DIR("/")') == ["[]", "[]"]


def test_links_inside_the_drive_are_fine(drive_dir):
    (drive_dir / "real").mkdir()
    (drive_dir / "real" / "a.txt").write_text("a")
    (drive_dir / "alias").symlink_to(drive_dir / "real", target_is_directory=True)
    assert talk(drive_dir, 'x = READ "alias/a.txt"\nTALK x') == ["a"]
    assert talk(drive_dir, 'TALK DELETE FILE("alias")') == ["true"]
    assert (drive_dir / "real" / "a.txt").exists()


# ---------------------------------------------------------------- the service directly


def test_drive_service_paths(tmp_path):
    drive = Drive(tmp_path / "d")
    assert split_drive_path("/a//./b/") == ["a", "b"]
    assert drive.resolve("") == drive.root == drive.resolve("/")
    assert drive.drive_path(drive.resolve("x/y.txt")) == "x/y.txt"
    for bad in ESCAPES + ["a\0b"]:
        with pytest.raises(BasicError, match="unsafe drive path"):
            drive.resolve(bad)
    with pytest.raises(BasicError, match="must be text"):
        drive.resolve(None)


def test_drive_service_round_trip(tmp_path):
    async def scenario():
        drive = Drive(tmp_path / "d")
        path = await drive.write_text("deep/er/f.txt", "hé")
        info = await drive.describe(path)
        names = await drive.list_files("/", recursive=True)
        copied = await drive.copy(path, "copy/")
        deleted = await drive.delete("deep")
        return path, info, names, copied, deleted, await drive.exists(path)

    path, info, names, copied, deleted, exists = asyncio.run(scenario())
    assert path == "deep/er/f.txt" and names == ["deep/er/f.txt"] and copied == "copy/f.txt"
    assert info["size"] == 3 and info["md5"] == hashlib.md5("hé".encode()).hexdigest()
    assert deleted is True and exists is False


def test_drive_for_a_package(tmp_path):
    package = SimpleNamespace(name="shop", root=tmp_path, drive_dir=None, kb_dir=tmp_path / "shop.gbkb",
                              data_dir=None)
    drive = Drive.for_package(package)
    assert drive.root == (tmp_path / "shop.gbdrive").resolve()
    assert drive.extra_roots == ((tmp_path / "shop.gbkb").resolve(),)
