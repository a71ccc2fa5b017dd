"""The `botbasic` command line."""
import sys


def main(argv=None) -> int:
    print("botbasic: not yet", file=sys.stderr)
    return 2
