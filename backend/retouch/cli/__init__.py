"""The `retouch` command: one module per command. Bad input prints one line naming the problem and exits
with 2, writing nothing; a failure while working exits with 1."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from retouch.cli import demo, engines, faces, inpaint, rebuild_index, seams, select, serve, upscale
from retouch.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, Parser
from retouch.errors import InputError, RetouchError

COMMANDS = (inpaint, upscale, faces, seams, select, serve, rebuild_index, engines, demo)


def build_parser() -> Parser:
    parser = Parser(prog="retouch", description="Retouch: fill, repair and extend pictures.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except InputError as exc:
        print(f"retouch: error: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RetouchError as exc:
        print(f"retouch: failed: {exc.message}", file=sys.stderr)
        return EXIT_FAILED


__all__ = ["build_parser", "main"]
