"""Errors raised while a BASIC script runs."""
from __future__ import annotations

# Error numbers follow Visual Basic where a classic number exists, so `ERR` values look
# familiar to BASIC authors; everything else uses the generic number 1.
GENERIC = 1
OVERFLOW = 6
DIVISION_BY_ZERO = 11
TYPE_MISMATCH = 13


class BasicError(Exception):
    """A runtime error of a script, trappable by ``ON ERROR``.

    ``message`` is the text a script sees in ``ERROR``; ``number`` is its ``ERR`` code.
    The VM fills in ``file`` and ``line`` when the error leaves an instruction.
    """

    def __init__(self, message: str, number: int = GENERIC):
        super().__init__(message)
        self.message = message
        self.number = number
        self.file: str | None = None
        self.line: int | None = None
