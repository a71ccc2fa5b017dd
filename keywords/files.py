"""File keywords (DIALECT §9.8): READ, WRITE, COPY, MOVE, DELETE FILE, LIST, DIR, UPLOAD,
DOWNLOAD — and GET of a drive file (§9.7.1 rule 4), registered with the memory family's
GET dispatch.

Everything happens in the bot drive, ``ctx.service("drive")`` (runtime/services/drive.py),
which validates every path. A file value (``FileValue``, or an object with a ``path``
member such as a DIR entry) may stand wherever a path is expected. Fetching from URLs
(UPLOAD of a URL, DOWNLOAD) goes through the HTTP keywords' ``send``, so the egress
policy, the size limit and the SET HEADER headers apply.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import PurePosixPath
from typing import Optional
from urllib.parse import unquote

from yarl import URL

from ..runtime.datetimes import DateTime
from ..runtime.errors import BasicError
from ..runtime.values import BasicObject, FileValue, from_json, to_json, to_str
from .calls import KeywordCall
from .http import GET_TIMEOUT, raise_for_status, send
from .memory import register_get_target
from .registry import keyword

UPLOAD_FOLDER = "uploads/"  # UPLOAD without a destination: the bot's archive area
DOWNLOAD_FOLDER = "downloads/"  # DOWNLOAD without a destination
_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\- ]+")
_FILENAME_PARAM = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


# ---------------------------------------------------------------- helpers


def drive_service(ctx, what: str = "the bot drive"):
    """The drive service, or the "not available" error naming ``what``."""
    drive = ctx.service("drive")
    if drive is None:
        raise BasicError(f"{what} is not available in this version")
    return drive


def path_of(value) -> str:
    """The drive path a value stands for: text, a file value or an object with ``path``."""
    if isinstance(value, FileValue):
        if value.path:
            return value.path
        raise BasicError(f"the file {value.name or value.url or ''} is not in the bot drive")
    if isinstance(value, dict):
        path = BasicObject.lookup(value, "path") if isinstance(value, BasicObject) else value.get("path")
        if path:
            return to_str(path)
    if value is None:
        raise BasicError("a file path is needed, not NULL")
    return to_str(value)


def is_url(value) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


async def file_value(drive, path: str) -> FileValue:
    """The file value describing the drive file ``path``."""
    info = await drive.describe(path)
    return FileValue(url=info["url"], name=info["name"], mime_type=info["mime_type"],
                     size=info["size"], path=info["path"])


def _mode(call: KeywordCall) -> Optional[str]:
    """The word after AS (``AS TABLE``, ``AS LINES`` ...), lower case; None without AS."""
    found = call.after("AS")
    if not found:
        return None
    arg = found[0]
    word = arg.value if isinstance(arg.value, str) else arg.name  # TABLE is a bare word
    return (word or "").strip().lower()


def _has_flag(call: KeywordCall, word: str) -> bool:
    return any(arg.sep == word for arg in call.args)


def _folder_target(target: str) -> bool:
    return target == "" or target.endswith("/")


# ---------------------------------------------------------------- GET of a file


async def _get_file(ctx, call: KeywordCall, target: str):
    """§9.7.1 rule 4: the file's text from the drive (then .gbkb, .gbdata); NULL when missing."""
    drive = drive_service(ctx, "GET of a file")
    return await drive.find_text(target)


async def drive_text(ctx, path: str) -> Optional[str]:
    """The text of a drive file, NULL when missing (GET's rule, for other families)."""
    return await drive_service(ctx, "GET of a file").find_text(path)


register_get_target("file", _get_file)


# ---------------------------------------------------------------- READ and WRITE


@keyword("READ", shapes=["x( AS x)?"], connectors=["AS"])
async def read(ctx, call: KeywordCall):
    """``READ path`` (text), ``READ path AS TABLE`` (row objects), ``AS LINES`` (strings)."""
    drive = drive_service(ctx)
    path, mode = path_of(call.values[0]), _mode(call)
    if mode not in (None, "", "text", "string", "lines", "table"):
        raise BasicError(f"READ ... AS {mode.upper()}: expected AS TABLE or AS LINES")
    text = await drive.read_text(path)
    if mode == "lines":
        return text.splitlines()
    if mode == "table":
        return parse_table(path, text)
    return text


def parse_table(path: str, text: str) -> list:
    """The rows of a CSV (or JSON array) file as objects keyed by the header row."""
    if path.lower().endswith(".json"):
        data = from_json(text)
        if not isinstance(data, list):
            raise BasicError(f"READ {path} AS TABLE: the JSON file does not hold an array")
        return data
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(path, text))
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [name.strip() for name in rows[0]]
    return [BasicObject(zip(header, row + [""] * (len(header) - len(row)))) for row in rows[1:]]


def _delimiter(path: str, text: str) -> str:
    """Tab for .tsv; ``;`` when the header line has more of them than commas (European CSV)."""
    if path.lower().endswith(".tsv"):
        return "\t"
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


@keyword("WRITE", shapes=["x(,| TO )x( AS x)?( APPEND)?"], connectors=["TO", "AS", "APPEND"])
async def write(ctx, call: KeywordCall):
    """``WRITE path, content`` / ``WRITE content TO path`` [``AS TABLE|LINES``] [``APPEND``]:
    text as is, objects and arrays as JSON; returns the file value (§9.8, A-14)."""
    drive = drive_service(ctx)
    first, second = call.args[0].value, call.args[1].value
    content, target = (first, second) if call.args[1].sep == "TO" else (second, first)
    path = path_of(target)
    append = _has_flag(call, "APPEND")
    text = await _rendered(drive, path, content, _mode(call), append)
    written = await drive.write_text(path, text, append=append)
    return await file_value(drive, written)


async def _rendered(drive, path: str, content, mode: Optional[str], append: bool) -> str:
    if mode in (None, "", "text", "string"):
        return content if isinstance(content, str) else _as_text(content)
    if mode == "lines":
        items = content if isinstance(content, list) else [content]
        return "".join(to_str(item) + "\n" for item in items)
    if mode == "table":
        # Appending rows to a table that already has its header row must not repeat it.
        has_header = append and await drive.exists(path) and (await drive.read_bytes(path)).strip()
        return table_csv(content, header=not has_header)
    raise BasicError(f"WRITE ... AS {mode.upper()}: expected AS TABLE or AS LINES")


def _as_text(content) -> str:
    if isinstance(content, (dict, list)):
        return to_json(content)
    return to_str(content)


def table_csv(rows, header: bool = True) -> str:
    """CSV text of an array of objects; the columns are every key, in order of appearance."""
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BasicError("WRITE ... AS TABLE needs an array of objects")
    columns: list = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_as_text(row.get(column)) for column in columns])
    return out.getvalue()


# ---------------------------------------------------------------- COPY, MOVE, DELETE FILE


@keyword("COPY", shapes=["x(,| TO )x"], connectors=["TO"])
async def copy(ctx, call: KeywordCall):
    """``COPY src, dst`` / ``COPY src TO dst``; returns the destination path."""
    source, target = call.values
    return await drive_service(ctx).copy(path_of(source), path_of(target))


@keyword("MOVE", shapes=["x(,| TO )x"], connectors=["TO"])
async def move(ctx, call: KeywordCall):
    """``MOVE src, dst`` / ``MOVE src TO dst`` (also renames); returns the destination path."""
    source, target = call.values
    return await drive_service(ctx).move(path_of(source), path_of(target))


@keyword("DELETE FILE", shapes=["x"])
async def delete_file(ctx, call: KeywordCall):
    """TRUE when the file (or folder) was deleted, FALSE when it did not exist."""
    return await drive_service(ctx).delete(path_of(call.values[0]))


# ---------------------------------------------------------------- LIST and DIR


@keyword("LIST", shapes=["x( FILTER x)?( RECURSIVE)?"], connectors=["FILTER", "RECURSIVE"])
async def list_(ctx, call: KeywordCall):
    """``LIST "dir/" [FILTER "*.pdf"] [RECURSIVE]``: file names relative to the folder."""
    folder = path_of(call.values[0])
    pattern = call.after("FILTER")
    filter_text = to_str(pattern[0].value) if pattern else None
    return await drive_service(ctx).list_files(folder, filter_text or None,
                                               _has_flag(call, "RECURSIVE"))


@keyword("DIR", shapes=["x"])
async def dir_(ctx, call: KeywordCall):
    """``DIR "folder"``: objects ``{name, path, size, modified, url, is_dir}``."""
    drive = drive_service(ctx)
    entries = await drive.entries(path_of(call.values[0]))
    return [BasicObject({"name": e.name, "path": e.path, "size": e.size,
                         "modified": DateTime(e.modified), "url": drive.url_of(e.path),
                         "is_dir": e.is_dir}) for e in entries]


# ---------------------------------------------------------------- UPLOAD and DOWNLOAD


@keyword("UPLOAD", shapes=["x(,x)?", "x TO x( AS x)?"], connectors=["TO", "AS"])
async def upload(ctx, call: KeywordCall):
    """``UPLOAD src`` / ``UPLOAD src, dest`` / ``UPLOAD src TO dest [AS name]``: copies a
    drive file, a file value or a URL's content into the drive; returns the file value."""
    drive = drive_service(ctx)
    source = call.args[0].value
    destination = to_str(call.args[1].value) if len(call.args) > 1 and call.args[1].sep != "AS" \
        else UPLOAD_FOLDER
    name_arg = call.after("AS")
    if name_arg:
        destination = destination.rstrip("/") + "/" + _safe_name(to_str(name_arg[0].value))
    if _remote_source(source):
        return await _store_download(ctx, drive, _remote_source(source), destination)
    source_path = path_of(source)
    if _folder_target(destination) or await drive.is_folder(destination):
        destination = destination.rstrip("/") + "/" + PurePosixPath(source_path).name
    written = await drive.copy(source_path, destination)
    return await file_value(drive, written)


def _remote_source(source) -> Optional[str]:
    """The URL to fetch for an UPLOAD source, if it is remote."""
    if isinstance(source, FileValue) and not source.path and is_url(source.url):
        return source.url
    return source.strip() if is_url(source) else None


@keyword("DOWNLOAD", shapes=["x(,x)?", "x TO x", "x AS x"], connectors=["TO", "AS"])
async def download(ctx, call: KeywordCall):
    """``f = DOWNLOAD url`` (into the drive's downloads folder) / ``DOWNLOAD url, "path"`` /
    ``DOWNLOAD url TO "path"``: fetches into the drive and returns the file value.
    ``DOWNLOAD "file" AS LINK`` is the file's public URL when the host serves the drive."""
    drive = drive_service(ctx)
    source = call.args[0].value
    second = call.args[1] if len(call.args) > 1 else None
    if second is not None and second.sep == "AS":
        return _public_link(drive, source, second)
    if not is_url(source):
        raise BasicError("DOWNLOAD of a drive file to the user is not available in this "
                         "version; use SEND FILE")
    destination = to_str(second.value) if second is not None else DOWNLOAD_FOLDER
    return await _store_download(ctx, drive, source.strip(), destination)


def _public_link(drive, source, second) -> str:
    word = (second.value if isinstance(second.value, str) else second.name) or ""
    if word.strip().lower() != "link":
        raise BasicError("DOWNLOAD ... AS: expected AS LINK")
    path = drive.drive_path(drive.resolve(path_of(source)))
    url = drive.url_of(path)
    if url is None:
        raise BasicError("public links to drive files are not available on this server")
    return url


async def _store_download(ctx, drive, url: str, destination: str) -> FileValue:
    """Fetch ``url`` into ``destination`` (a folder receives the file under its own name)."""
    result = await send(ctx, "GET", url, timeout=GET_TIMEOUT, what="downloading")
    raise_for_status(result)
    if _folder_target(destination) or await drive.is_folder(destination):
        destination = destination.rstrip("/") + "/" + download_name(url, result.header(
            "content-disposition"))
    written = await drive.write_bytes(destination, result.body)
    value = await file_value(drive, written)
    if result.content_type:
        value.mime_type = result.content_type
    return value


def download_name(url: str, disposition: str = "") -> str:
    """A safe file name for a download: Content-Disposition's, else the URL's last segment."""
    match = _FILENAME_PARAM.search(disposition or "")
    name = unquote(match.group(1)) if match else unquote(URL(url).name)
    return _safe_name(name) or "download"


def _safe_name(name: str) -> str:
    """A single file name: no folders, no characters a drive path refuses."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME_CHARS.sub("_", base).strip(" .")
    return cleaned.lstrip("~")
