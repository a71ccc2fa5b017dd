"""The bot drive: the folder the file keywords work in (DIALECT §1.5, §9.8).

A drive path is relative to the drive root and uses ``/``; a leading ``/`` also means the
root, so ``"/etc/passwd"`` is the drive's own ``etc/passwd``, never the host's. Every path
is validated before it is used: ``..`` segments, ``~``, drive letters (``C:``),
backslashes, NUL characters, URLs and (where no pattern is expected) wildcards are refused
with a ``BasicError`` "unsafe drive path ...". A path that reaches outside the root through
a symbolic link is refused too, so a link planted in the drive cannot expose the host.

Directories are created on demand when writing. ``extra_roots`` are read-only folders that
``find`` also searches (the package's ``.gbkb`` and ``.gbdata`` for GET, §9.7.1 rule 4),
each reachable by its own name as the first segment (``"announcements.gbkb/news/a.pdf"``)
or, after the drive itself, directly.

The methods are coroutines that run blocking file I/O in a worker thread, so an object
storage drive can later offer the same interface.
"""
from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import io
import mimetypes
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Iterable, Optional, Union
from xml.etree import ElementTree

from ..errors import BasicError

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_WILDCARDS = frozenset("*?[]")
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass(frozen=True)
class DriveEntry:
    """One file or folder of a listing."""

    path: str  # drive path, "/"-separated, no leading "/"
    name: str
    size: int
    modified: datetime
    is_dir: bool


class Drive:
    """A bot's drive folder (see module doc)."""

    def __init__(self, root: Union[str, Path], *, extra_roots: Iterable[Union[str, Path]] = (),
                 base_url: Optional[str] = None):
        self.root = Path(root).resolve()
        self.extra_roots = tuple(Path(r).resolve() for r in extra_roots)
        self.base_url = base_url.rstrip("/") if base_url else None

    @classmethod
    def for_package(cls, package) -> "Drive":
        """The drive of a loaded ``BotPackage``: its ``.gbdrive`` folder (created when the
        package has none), with ``.gbkb`` and ``.gbdata`` as read-only extra roots."""
        root = package.drive_dir or package.root / f"{package.name}.gbdrive"
        extras = [d for d in (package.kb_dir, package.data_dir) if d is not None]
        return cls(root, extra_roots=extras)

    # ------------------------------------------------------------ paths

    def resolve(self, path, *, wildcards: bool = False, root: Optional[Path] = None) -> Path:
        """The host path of drive path ``path`` (validated, see module doc).

        ``wildcards`` lets ``* ? [ ]`` through (listing patterns). ``""`` and ``"/"`` are
        the root itself.
        """
        base = root or self.root
        parts = split_drive_path(path, wildcards=wildcards)
        host_path = base.joinpath(*parts)
        self._check_inside(host_path, base, path)
        return host_path

    def drive_path(self, host_path: Path) -> str:
        """The drive path ("a/b.txt") of a host path inside the drive."""
        return host_path.relative_to(self.root).as_posix() if host_path != self.root else ""

    def url_of(self, drive_path: str) -> Optional[str]:
        """The public URL of a drive file, when the host serves the drive (``base_url``)."""
        return f"{self.base_url}/{drive_path}" if self.base_url else None

    @staticmethod
    def _check_inside(host_path: Path, base: Path, written) -> None:
        """Refuse a path that leaves ``base`` once symbolic links are followed."""
        real = Path(os.path.realpath(host_path))
        if real != base and base not in real.parents:
            raise BasicError(f"unsafe drive path '{written}': it leads outside the bot drive")

    # ------------------------------------------------------------ reading

    async def exists(self, path) -> bool:
        return await asyncio.to_thread(self.resolve(path).exists)

    async def is_folder(self, path) -> bool:
        return await asyncio.to_thread(self.resolve(path).is_dir)

    async def read_bytes(self, path) -> bytes:
        """The content of a drive file; a missing one is an error."""
        return await asyncio.to_thread(_read_file, self.resolve(path), path)

    async def read_text(self, path) -> str:
        """The text of a drive file (see ``file_text``); a missing one is an error."""
        host_path = self.resolve(path)
        data = await asyncio.to_thread(_read_file, host_path, path)
        return file_text(host_path.name, data)

    async def find_text(self, path) -> Optional[str]:
        """The text of ``path`` in the drive, else in an extra root; None when missing."""
        host_path = self._find(path)
        if host_path is None:
            return None
        data = await asyncio.to_thread(host_path.read_bytes)
        return file_text(host_path.name, data)

    def _find(self, path) -> Optional[Path]:
        parts = split_drive_path(path)
        candidates = [self.resolve(path)]
        for extra in self.extra_roots:
            if parts and parts[0].lower() == extra.name.lower():
                candidates.append(self.resolve("/".join(parts[1:]), root=extra))
            candidates.append(self.resolve(path, root=extra))
        return next((c for c in candidates if c.is_file()), None)

    # ------------------------------------------------------------ writing

    async def write_bytes(self, path, data: bytes, *, append: bool = False) -> str:
        """Write (or append to) a drive file, creating its folders; returns its drive path."""
        host_path = self.resolve(path)
        await asyncio.to_thread(self._write, host_path, data, append, path)
        return self.drive_path(host_path)

    async def write_text(self, path, text: str, *, append: bool = False) -> str:
        return await self.write_bytes(path, text.encode("utf-8"), append=append)

    def _write(self, host_path: Path, data: bytes, append: bool, written) -> None:
        if host_path == self.root or host_path.is_dir():
            raise BasicError(f"'{written}' is a folder, not a file")
        self._make_parents(host_path, written)
        with open(host_path, "ab" if append else "wb") as handle:
            handle.write(data)

    def _make_parents(self, host_path: Path, written) -> None:
        host_path.parent.mkdir(parents=True, exist_ok=True)
        # A folder created meanwhile through a planted link must not be written through.
        self._check_inside(host_path, self.root, written)

    async def copy(self, source, target) -> str:
        """Copy a file or folder; a target that is a folder (or ends with "/") receives
        it under its own name. Returns the target's drive path."""
        return await asyncio.to_thread(self._transfer, source, target, _copy_any)

    async def move(self, source, target) -> str:
        """Move or rename a file or folder (target rules of ``copy``)."""
        return await asyncio.to_thread(self._transfer, source, target, shutil.move)

    def _transfer(self, source, target, operation) -> str:
        source_path = self.resolve(source)
        if source_path == self.root:
            raise BasicError("the drive root cannot be copied or moved")
        if not source_path.exists():
            raise BasicError(f"file not found: {source}")
        target_path = self.resolve(target)
        if target_path.is_dir() or str(target).endswith("/"):
            target_path = target_path / source_path.name
        if target_path == source_path or source_path in target_path.parents:
            raise BasicError(f"cannot copy or move '{source}' into itself")
        self._make_parents(target_path, target)
        operation(source_path, target_path)
        return self.drive_path(target_path)

    async def delete(self, path) -> bool:
        """Delete a file or folder; False when there was nothing to delete."""
        host_path = self.resolve(path)
        if host_path == self.root:
            raise BasicError("the drive root cannot be deleted")
        return await asyncio.to_thread(_delete_any, host_path)

    # ------------------------------------------------------------ listing

    async def list_files(self, folder, pattern: Optional[str] = None,
                         recursive: bool = False) -> list[str]:
        """Names of the files in ``folder`` relative to it ("sub/a.txt" when recursive),
        sorted; ``pattern`` (``*.pdf``) filters them by file name, case-insensitively."""
        folder, pattern = _split_pattern(folder, pattern)
        host_folder = self.resolve(folder)
        return await asyncio.to_thread(self._list_names, host_folder, pattern, recursive)

    def _list_names(self, host_folder: Path, pattern: Optional[str], recursive: bool) -> list[str]:
        if not host_folder.is_dir():
            return []
        found = host_folder.rglob("*") if recursive else host_folder.iterdir()
        names = []
        for entry in found:
            if not entry.is_file() or not self._is_inside(entry):
                continue
            if pattern and not fnmatch.fnmatch(entry.name.lower(), pattern.lower()):
                continue
            names.append(entry.relative_to(host_folder).as_posix())
        return sorted(names)

    def _is_inside(self, host_path: Path) -> bool:
        real = Path(os.path.realpath(host_path))
        return self.root in real.parents

    async def entries(self, folder) -> list[DriveEntry]:
        """The files and folders directly inside ``folder``, sorted by name."""
        host_folder = self.resolve(folder)
        return await asyncio.to_thread(self._entries, host_folder)

    def _entries(self, host_folder: Path) -> list[DriveEntry]:
        if not host_folder.is_dir():
            return []
        result = []
        for entry in sorted(host_folder.iterdir(), key=lambda e: e.name):
            if not self._is_inside(entry):
                continue  # a link leading out of the drive is not part of it
            stat = entry.stat()
            result.append(DriveEntry(self.drive_path(entry), entry.name,
                                     0 if entry.is_dir() else stat.st_size,
                                     datetime.fromtimestamp(stat.st_mtime), entry.is_dir()))
        return result

    async def describe(self, path) -> dict:
        """``{path, name, size, mime_type, md5, url}`` of an existing drive file."""
        host_path = self.resolve(path)
        data = await asyncio.to_thread(_read_file, host_path, path)
        drive_path = self.drive_path(host_path)
        return {"path": drive_path, "name": host_path.name, "size": len(data),
                "mime_type": guess_mime_type(host_path.name),
                "md5": hashlib.md5(data).hexdigest(), "url": self.url_of(drive_path)}


# ---------------------------------------------------------------- path validation


def split_drive_path(path, *, wildcards: bool = False) -> list[str]:
    """The validated segments of a drive path (see module doc); ``.`` segments dropped."""
    if not isinstance(path, str):
        raise BasicError("a drive path must be text")
    problem = _path_problem(path, wildcards)
    if problem:
        raise BasicError(f"unsafe drive path '{path}': {problem}")
    return [part for part in path.split("/") if part not in ("", ".")]


def _path_problem(path: str, wildcards: bool) -> Optional[str]:
    """What makes ``path`` unsafe, or None."""
    if "\\" in path:
        return "backslashes are not allowed"
    if "\0" in path:
        return "NUL characters are not allowed"
    if _SCHEME.match(path):
        return "a URL is not a drive path"
    if _DRIVE_LETTER.match(path.lstrip("/")):
        return "drive letters are not allowed"
    if not wildcards and _WILDCARDS.intersection(path):
        return "wildcards are not allowed here"
    for part in path.split("/"):
        if part == "..":
            return "'..' is not allowed"
        if part.startswith("~"):
            return "'~' is not allowed"
    return None


def _split_pattern(folder, pattern: Optional[str]):
    """``LIST "docs/*.pdf"``: a wildcard last segment is a pattern, not a folder."""
    if isinstance(folder, str) and _WILDCARDS.intersection(folder):
        head, _, tail = folder.rpartition("/")
        split_drive_path(folder, wildcards=True)  # validates the whole written path
        if _WILDCARDS.intersection(head):
            raise BasicError(f"unsafe drive path '{folder}': wildcards only in the file name")
        return head, pattern or tail
    return folder, pattern


# ---------------------------------------------------------------- file helpers


def _read_file(host_path: Path, written) -> bytes:
    if not host_path.is_file():
        raise BasicError(f"file not found: {written}")
    return host_path.read_bytes()


def _copy_any(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
    else:
        shutil.copyfile(source, target)


def _delete_any(host_path: Path) -> bool:
    if host_path.is_symlink() or host_path.is_file():
        host_path.unlink()  # a link is removed, never what it points to
        return True
    if host_path.is_dir():
        shutil.rmtree(host_path)
        return True
    return False


def guess_mime_type(name: str) -> str:
    """The media type for a file name (``application/octet-stream`` when unknown)."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def file_text(name: str, data: bytes) -> str:
    """The text of a file: Word documents' paragraphs, other files as UTF-8 text."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".docx":
        return _docx_text(data, name)
    if suffix in (".pdf", ".xlsx", ".xls", ".doc", ".pptx"):
        raise BasicError(f"cannot read the text of {name}: {suffix} files are not supported "
                         "in this version")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BasicError(f"cannot read {name}: it is not UTF-8 text") from None


def _docx_text(data: bytes, name: str) -> str:
    """The paragraphs of a .docx file, one per line (the document.xml of the zip)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            root = ElementTree.fromstring(archive.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        raise BasicError(f"cannot read {name}: not a valid Word document") from None
    paragraphs = []
    for paragraph in root.iter(f"{_WORD_NS}p"):
        paragraphs.append("".join(node.text or "" for node in paragraph.iter(f"{_WORD_NS}t")))
    return "\n".join(paragraphs)
