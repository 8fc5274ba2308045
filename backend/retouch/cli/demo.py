"""`retouch demo`: fill a bundled picture and say where the result went."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path


def add(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="fill a bundled picture and say where the result went")
    demo.add_argument("-o", "--output", type=Path, default=Path("out/demo.png"))
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from retouch.cli import main

    assets = files("retouch") / "assets"
    return main(
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
