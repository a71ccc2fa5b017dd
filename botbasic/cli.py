"""The ``botbasic`` command line: ``check``, ``run``, ``serve`` and ``kb index``."""
from __future__ import annotations

import argparse
import sys
from typing import Optional


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="botbasic", description="Run bots written in BASIC.")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="compile scripts and report every problem")
    check.add_argument("paths", nargs="+", help=".bas files, *.gbai packages or folders")
    check.add_argument("--quiet", "-q", action="store_true", help="print errors only")
    check.add_argument("--lenient", action="store_true",
                       help="close unbalanced blocks and skip unparsable lines with warnings")

    run = sub.add_parser("run", help="run a script as a console dialog")
    run.add_argument("script", help="the .bas file to run")
    run.add_argument("--input", "-i", action="append", default=None, metavar="TEXT",
                     help="an answer for the next HEAR (repeatable); without it, stdin is read")
    run.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    run.add_argument("--lenient", action="store_true", help="compile in lenient mode")

    serve = sub.add_parser("serve", help="run the chat server for a folder of bot packages")
    serve.add_argument("bots_dir", nargs="?", default="bots",
                       help="folder of *.gbai packages (default: ./bots)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free)")
    serve.add_argument("--data", default="data",
                       help="data folder for the SQLite database (default ./data); "
                            "DATABASE_URL=postgresql://... uses PostgreSQL instead")
    serve.add_argument("--no-watch", action="store_true", help="do not reload changed packages")

    kb = sub.add_parser("kb", help="knowledge bases").add_subparsers(dest="kb_command", required=True)
    kb_index = kb.add_parser("index", help="index the .gbkb folders of bot packages now")
    kb_index.add_argument("path", nargs="?", default="bots",
                          help="a *.gbai package or a folder of packages (default: ./bots)")
    kb_index.add_argument("--data", default="data",
                          help="data folder of the index (default ./data); QDRANT_URL uses a Qdrant server")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check":
        from .check import run_check
        return run_check(args.paths, args.quiet, args.lenient)
    if args.command == "run":
        from .console import run_console
        return run_console(args.script, args.input, args.json, args.lenient)
    if args.command == "serve":
        return _serve(args)
    if args.command == "kb":
        from .kb_command import run_kb_index
        return run_kb_index(args.path, args.data)
    return 2


def _serve(args) -> int:
    from pathlib import Path

    from .server.config import ServerSettings
    from .server.serve import run_server

    settings = ServerSettings.from_env(bots_dir=Path(args.bots_dir), data_dir=Path(args.data),
                                       host=args.host, port=args.port, watch=not args.no_watch)
    return run_server(settings)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
