"""The `install` job: a manifest's model downloaded, verified and registered (`catalog.install.install`), with the
job hooks every workflow takes: progress as (bytes done, bytes in all) through `on_step`, and `is_cancelled`
checked between chunks (a cancelled download keeps its `.part` to resume). It takes no picture: the server's
installer runs it on a thread of its own, one install at a time, and the command line calls the same function.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from retouch.catalog.install import InstallResult, install
from retouch.catalog.manifest import ManifestEntry
from retouch.engines import Hooks

kind = "install"


def run(entry: ManifestEntry, catalog: Path, hooks: Hooks, reserved: Iterable[str] = ()) -> InstallResult:
    def progress(done: int, total: int | None) -> None:
        hooks.report(done, total or entry.size)

    return install(entry, catalog, reserved=reserved, on_progress=progress, is_cancelled=hooks.is_cancelled)
