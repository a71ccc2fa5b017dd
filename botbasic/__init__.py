"""botbasic: an engine for bots written in the General Bots BASIC dialect."""

__version__ = "0.1.0"
