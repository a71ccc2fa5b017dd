"""Text extraction for knowledge-base files (DIALECT §1.3).

``extract(path)`` returns the text of a file as a list of *parts*. A part is a run of
text that the chunker may split but never merges with another part: a document is one
part, while a CSV row or a record of a JSON array is a part of its own, so that each
record lands in its own chunk ("XLSX/CSV: one row per chunk").

Formats: plain text and markup-light text (txt, md, yaml, source code, ...), HTML
(stdlib ``html.parser``; script and style skipped), CSV (``col: value`` lines), JSON
(flattened to ``path: value`` lines), PDF (pypdf) and DOCX (python-docx).
"""
from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Iterator, Union


class ExtractionError(Exception):
    """A file of a supported format could not be read (corrupt, encrypted, malformed)."""


# Read as text without interpretation (Markdown is embedded as written: its markup is light).
PLAIN_TEXT_SUFFIXES = frozenset({
    ".txt", ".text", ".md", ".markdown", ".rst", ".log", ".yaml", ".yml", ".toml", ".ini",
    ".xml", ".bas", ".py", ".js", ".ts", ".java", ".cs", ".sql", ".sh",
})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})


def is_supported(path: Union[str, Path]) -> bool:
    """True when ``extract`` knows the format of ``path`` (by its extension)."""
    return _suffix(path) in _EXTRACTORS


def extract(path: Union[str, Path]) -> list[str]:
    """The text parts of the file at ``path``; empty parts are dropped.

    Raises ``ValueError`` for an unsupported extension and :class:`ExtractionError`
    when a supported file cannot be read.
    """
    path = Path(path)
    extractor = _EXTRACTORS.get(_suffix(path))
    if extractor is None:
        raise ValueError(f"unsupported knowledge-base file type: {path.name}")
    try:
        parts = extractor(path)
    except ExtractionError:
        raise
    except Exception as error:  # third-party parsers raise many kinds of errors
        raise ExtractionError(f"cannot read {path.name}: {error}") from error
    return [part for part in (part.strip() for part in parts) if part]


def _suffix(path: Union[str, Path]) -> str:
    return Path(path).suffix.lower()


# ---------------------------------------------------------------- plain text


def read_text(path: Path) -> str:
    """File contents as text: UTF-8 (BOM tolerated), else Windows-1252.

    Knowledge files written on Windows (common for Portuguese content) are often
    cp1252; decoding them as UTF-8 with replacement would lose every accent.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _extract_plain(path: Path) -> list[str]:
    return [read_text(path)]


# ---------------------------------------------------------------- HTML

# Elements whose text is never content.
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})
# <title> is inside <head> but is content worth keeping.
_KEPT_IN_SKIPPED = frozenset({"title"})
# Elements that end a line of text, so words of adjacent blocks do not run together.
_BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header",
    "footer", "nav", "aside", "main", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
    "blockquote", "dt", "dd", "hr", "title", "figcaption", "form", "address",
})
_CELL_TAGS = frozenset({"td", "th"})


class _HtmlTextParser(HTMLParser):
    """Collects visible text, one line per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._current: list[str] = []
        self._skip_depth = 0
        self._kept_depth = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag in _KEPT_IN_SKIPPED:
            self._kept_depth += 1
        if tag in _BLOCK_TAGS:
            self._end_line()
        elif tag in _CELL_TAGS:
            self._current.append(" | ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK_TAGS:
            self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _KEPT_IN_SKIPPED:
            self._kept_depth = max(0, self._kept_depth - 1)
        if tag in _BLOCK_TAGS:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._skip_depth == 0 or self._kept_depth > 0:
            self._current.append(data)

    def text(self) -> str:
        self._end_line()
        return "\n".join(self._lines)

    def _end_line(self) -> None:
        line = " ".join("".join(self._current).split())
        line = line.strip(" |")
        if line:
            self._lines.append(line)
        self._current = []


def html_to_text(markup: str) -> str:
    """Visible text of an HTML document, one line per block element."""
    parser = _HtmlTextParser()
    parser.feed(markup)
    parser.close()
    return parser.text()


def _extract_html(path: Path) -> list[str]:
    return [html_to_text(read_text(path))]


# ---------------------------------------------------------------- CSV


def _extract_csv(path: Path) -> list[str]:
    """One part per data row: ``column: value`` lines, empty values left out."""
    text = read_text(path)
    rows = list(csv.reader(io.StringIO(text), dialect=_csv_dialect(text)))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [cell.strip() or f"column {index + 1}" for index, cell in enumerate(rows[0])]
    return [_csv_record(header, row) for row in rows[1:]]


def _csv_dialect(text: str) -> Any:
    """Sniffed dialect (``;`` is common in Brazilian exports); plain commas otherwise."""
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _csv_record(header: list[str], row: list[str]) -> str:
    lines = []
    for index, value in enumerate(row):
        value = value.strip()
        if value:
            name = header[index] if index < len(header) else f"column {index + 1}"
            lines.append(f"{name}: {value}")
    return "\n".join(lines)


# ---------------------------------------------------------------- JSON


def _extract_json(path: Path) -> list[str]:
    """Flattened ``path: value`` lines; a top-level array gives one part per element."""
    try:
        data = json.loads(read_text(path))
    except ValueError as error:
        raise ExtractionError(f"{path.name} is not valid JSON: {error}") from error
    if isinstance(data, list):
        return ["\n".join(flatten_json(item)) for item in data]
    return ["\n".join(flatten_json(data))]


def flatten_json(value: Any, prefix: str = "") -> Iterator[str]:
    """``a.b[0].c: value`` lines for every scalar leaf of ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten_json(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flatten_json(item, f"{prefix}[{index}]")
    elif value is not None and value != "":
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        yield f"{prefix}: {text}" if prefix else text


# ---------------------------------------------------------------- PDF and DOCX


def _extract_pdf(path: Path) -> list[str]:
    """Text of every page, pages separated by a blank line (chunks may span pages)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ExtractionError(f"{path.name} is encrypted with a password")
    pages = (page.extract_text() or "" for page in reader.pages)
    return ["\n\n".join(_tidy_lines(page) for page in pages)]


def _tidy_lines(text: str) -> str:
    """Trailing blanks off every line (PDF text is full of them)."""
    return "\n".join(line.rstrip() for line in text.splitlines())


def _extract_docx(path: Path) -> list[str]:
    """Paragraphs and tables in document order; table rows as ``cell | cell`` lines."""
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    blocks = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            blocks.append("\n".join(_docx_row(row) for row in block.rows))
        else:
            blocks.append(block.text)
    # Paragraphs become paragraphs of the text, so the chunker can cut between them.
    return ["\n\n".join(block for block in blocks if block.strip())]


def _docx_row(row: Any) -> str:
    cells = []
    for cell in row.cells:
        text = " ".join(cell.text.split())
        # Merged cells repeat the same cell object; keep its text once.
        if text and (not cells or cells[-1] != text):
            cells.append(text)
    return " | ".join(cells)


_EXTRACTORS: dict[str, Callable[[Path], list[str]]] = {
    **{suffix: _extract_plain for suffix in PLAIN_TEXT_SUFFIXES},
    **{suffix: _extract_html for suffix in HTML_SUFFIXES},
    ".csv": _extract_csv,
    ".json": _extract_json,
    ".pdf": _extract_pdf,
    ".docx": _extract_docx,
}
