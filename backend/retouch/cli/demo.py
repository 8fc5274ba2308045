"""`retouch demo`: fill a bundled picture and say where the result went."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path

from retouch.cli import inpaint
from retouch.cli.common import Parser


def add(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="fill a bundled picture and say where the result went")
    demo.add_argument("-o", "--output", type=Path, default=Path("out/demo.png"))
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """`retouch inpaint` on the bundled picture, parsed by the inpaint command's own parser (bad input raises,
    and `retouch`'s main says it in one line, as for any command)."""
    parser = Parser(prog="retouch")
    inpaint.add(parser.add_subparsers(dest="command", required=True, parser_class=Parser))
    assets = files("retouch") / "assets"
    given = parser.parse_args(
        [
            "inpaint",
            str(assets / "demo.jpg"),
            str(assets / "demo-mask.png"),
            "-o",
            str(args.output),
            "--bbox",
            "auto",
            "--seed",
            "1",
        ]
    )
    return given.run(given)
