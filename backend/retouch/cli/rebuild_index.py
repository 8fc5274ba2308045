"""`retouch rebuild-index`: a fresh index of the server's pictures from the files in its data folder, after its
database was damaged or lost. The old database is copied aside first; jobs are kept when it can still be read."""

from __future__ import annotations

import argparse
from pathlib import Path

from retouch.errors import InputError


def add(sub: argparse._SubParsersAction) -> None:
    rebuild = sub.add_parser(
        "rebuild-index",
        help="rebuild the server's index of pictures from the files in its "
        "data folder, after its database was damaged or lost (a copy of it is kept)",
    )
    rebuild.add_argument("--data-dir", type=Path, default=None, help="the server's data folder (default ./data)")
    rebuild.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from retouch.server.rebuild import rebuild_index
    from retouch.server.settings import default_data_dir
    from retouch.server.store import IMAGES

    data = args.data_dir or default_data_dir()
    if not (data / IMAGES).is_dir():
        raise InputError(f"{data} holds no pictures (no {IMAGES}/ folder); nothing to rebuild")
    backup, pictures, jobs = rebuild_index(data)
    kept = f"; the old database was copied to {backup}" if backup else ""
    jobs_note = f", {jobs} job(s) kept" if jobs else ", no jobs could be read back"
    print(f"rebuilt the index of {data}: {pictures} picture(s){jobs_note}{kept}")
    return 0
