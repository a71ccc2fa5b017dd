"""Chunking of knowledge-base text (DIALECT §1.3: about 1000 characters, about 200 overlap).

A text is cut into *pieces* at natural boundaries (sentence ends and line ends; a piece
that is still too long is cut between words, a word that is too long by characters).
Pieces are packed greedily into chunks of at most ``size`` characters; when a chunk is
full the cut moves back to the last paragraph end if that keeps the chunk at least
half full. Each chunk after the first starts with the tail of the one before it (at
most ``overlap`` characters), and that tail begins at a sentence start where one is
close enough, else at a word start, so no chunk begins mid-word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

DEFAULT_CHUNK_SIZE = 1000
DEFAULT_OVERLAP = 200
# A paragraph end is preferred as the cut only if the chunk is at least this full.
_MIN_FILL_FOR_PARAGRAPH_CUT = 0.5

# End of a piece: sentence punctuation (with closing quotes/brackets) and the blanks
# after it, or a line end.
_PARAGRAPH_END = re.compile(r"\n\n")
_PIECE_END = re.compile(r"[.!?…。！？]+[\"'”’)\]]*[ ]+|\n+")
_WORD_END = re.compile(r"\s+")
_SENTENCE_START = re.compile(r"[.!?…。！？]+[\"'”’)\]]*\s+(?=\S)|\n+(?=\S)")
_WORD_START = re.compile(r"\s+(?=\S)")
_BLANKS = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Chunk:
    """One piece of a knowledge-base file, the unit that is embedded and searched."""

    text: str
    source: str  # the file, relative to its collection folder (posix separators)
    collection: str
    position: int  # 0-based order of the chunk within its file


@dataclass(frozen=True)
class _Piece:
    text: str  # includes the blanks that followed it in the source
    ends_paragraph: bool


def normalise_text(text: str) -> str:
    """Unix line ends, single blanks, no trailing blanks, at most one empty line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BLANKS.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def split_text(text: str, size: int = DEFAULT_CHUNK_SIZE, overlap: int = DEFAULT_OVERLAP) -> list[str]:
    """Chunks of ``text``: each at most ``size`` characters, consecutive ones overlapping."""
    if overlap < 0 or overlap >= size:
        raise ValueError(f"overlap must be between 0 and size - 1, got {overlap} for size {size}")
    text = normalise_text(text)
    if not text:
        return []
    if len(text) <= size:
        return [text]
    return _pack(_pieces(text, size - overlap), size, overlap)


def chunk_parts(parts: Iterable[str], *, source: str, collection: str,
                size: int = DEFAULT_CHUNK_SIZE, overlap: int = DEFAULT_OVERLAP) -> list[Chunk]:
    """Chunks of a file's extracted parts; parts are chunked separately, never merged."""
    texts = [chunk for part in parts for chunk in split_text(part, size, overlap)]
    return [Chunk(text, source, collection, position) for position, text in enumerate(texts)]


# ---------------------------------------------------------------- pieces


def _pieces(text: str, max_length: int) -> list[_Piece]:
    """Sentence/line pieces of normalised ``text``, none longer than ``max_length``."""
    pieces = []
    for paragraph in _split_after(text, _PARAGRAPH_END):
        parts = [part for sentence in _split_after(paragraph, _PIECE_END)
                 for part in _fit(sentence, max_length)]
        pieces.extend(_Piece(part, False) for part in parts[:-1])
        pieces.append(_Piece(parts[-1], True))
    return pieces


def _split_after(text: str, boundary: re.Pattern) -> list[str]:
    """``text`` cut right after each match of ``boundary`` (matches stay on the left)."""
    cuts = [match.end() for match in boundary.finditer(text) if match.end() < len(text)]
    starts = [0, *cuts]
    ends = [*cuts, len(text)]
    return [text[start:end] for start, end in zip(starts, ends) if end > start]


def _fit(piece: str, max_length: int) -> list[str]:
    """``piece`` as is if short enough, else word groups, else fixed-width slices."""
    if len(piece) <= max_length:
        return [piece]
    groups: list[str] = []
    current = ""
    for word in _split_after(piece, _WORD_END):
        if len(current) + len(word) <= max_length:
            current += word
            continue
        if current:
            groups.append(current)
        # A single "word" longer than the limit (a URL, base64) is cut where it must be.
        while len(word) > max_length:
            groups.append(word[:max_length])
            word = word[max_length:]
        current = word
    if current:
        groups.append(current)
    return groups


# ---------------------------------------------------------------- packing


def _pack(pieces: list[_Piece], size: int, overlap: int) -> list[str]:
    chunks: list[str] = []
    carry = ""
    index = 0
    while index < len(pieces):
        if len(carry) + len(pieces[index].text) > size:
            carry = ""  # only when a piece is as long as allowed; never exceed the size
        end = _chunk_end(pieces, index, size - len(carry))
        full = carry + "".join(piece.text for piece in pieces[index:end])
        chunks.append(full.strip())
        carry = _overlap_tail(full, overlap)
        index = end
    return chunks


def _chunk_end(pieces: list[_Piece], start: int, budget: int) -> int:
    """Index after the last piece of the chunk starting at ``start`` (takes at least one)."""
    length = 0
    end = start
    paragraph_end = None
    while end < len(pieces) and (end == start or length + len(pieces[end].text) <= budget):
        length += len(pieces[end].text)
        end += 1
        if pieces[end - 1].ends_paragraph and length >= budget * _MIN_FILL_FOR_PARAGRAPH_CUT:
            paragraph_end = end
    if end < len(pieces) and paragraph_end is not None:
        return paragraph_end
    return end


def _overlap_tail(full: str, overlap: int) -> str:
    """The end of a chunk that the next chunk repeats, with the separator that followed it.

    Starts at a sentence start if that keeps at least a quarter of the overlap (a shorter
    tail carries too little context), else at a word start.
    """
    body = full.rstrip()
    separator = full[len(body):] or " "
    limit = overlap - len(separator)
    if limit <= 0:
        return ""
    window = body[-limit:]
    if len(window) == len(body):
        return body + separator
    sentence = _SENTENCE_START.search(window)
    if sentence and len(window) - sentence.end() >= limit // 4:
        return window[sentence.end():] + separator
    word = _WORD_START.search(window)
    if word:
        return window[word.end():] + separator
    return ""
