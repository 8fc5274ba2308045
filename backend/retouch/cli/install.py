"""`retouch models install | starter | verify | scan | remove`: the starter models (or any manifest's) downloaded,
verified and registered; models other tools downloaded registered by path; downloaded files checked again."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from retouch.cli.common import CATALOG_HELP
from retouch.errors import InputError

MANIFEST_HELP = "model manifest (default: $RETOUCH_MANIFEST, else the starter set shipped with Retouch)"


def add(models_sub: argparse._SubParsersAction) -> None:
    install = models_sub.add_parser(
        "install", help="download, verify and register starter models (resumes an interrupted download)"
    )
    install.add_argument("names", nargs="*", help="models from the manifest (see `retouch models starter`)")
    install.add_argument("--all", action="store_true", help="every model in the manifest")
    install.add_argument("--purpose", choices=["inpainting", "upscaling", "faces", "segmentation"], default=None)
    install.add_argument("--download-only", action="store_true", help="fetch and verify, but do not register")
    install.add_argument("--manifest", type=Path, default=None, help=MANIFEST_HELP)
    install.add_argument("--catalog", type=Path, default=argparse.SUPPRESS, help=CATALOG_HELP)
    install.set_defaults(run=run_install)

    starter = models_sub.add_parser("starter", help="the models `install` offers: size, licence, installed or not")
    starter.add_argument("--manifest", type=Path, default=None, help=MANIFEST_HELP)
    starter.add_argument("--catalog", type=Path, default=argparse.SUPPRESS, help=CATALOG_HELP)
    starter.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    starter.set_defaults(run=run_starter)

    verify = models_sub.add_parser("verify", help="hash installed models again and compare with the recorded sha256")
    verify.add_argument("--catalog", type=Path, default=argparse.SUPPRESS, help=CATALOG_HELP)
    verify.set_defaults(run=run_verify)

    scan = models_sub.add_parser(
        "scan", help="register the models in an AUTOMATIC1111/Forge, ComfyUI or InvokeAI models folder (by path)"
    )
    scan.add_argument("folder", type=Path)
    scan.add_argument("--catalog", type=Path, default=argparse.SUPPRESS, help=CATALOG_HELP)
    scan.set_defaults(run=run_scan)

    remove = models_sub.add_parser(
        "remove", help="unregister a model; its files are deleted only when `install` downloaded them"
    )
    remove.add_argument("name")
    remove.add_argument("--catalog", type=Path, default=argparse.SUPPRESS, help=CATALOG_HELP)
    remove.set_defaults(run=run_remove)


def _catalog(args: argparse.Namespace) -> Path:
    from retouch.catalog import user_catalog_path

    path = getattr(args, "catalog", None) or user_catalog_path()
    if path.is_dir():
        raise InputError(f"catalog {str(path)!r} is a folder; give a .yaml file")
    return path


def run_install(args: argparse.Namespace) -> int:
    from retouch.catalog.install import install
    from retouch.catalog.manifest import load_manifest
    from retouch.cli.common import progress_bar
    from retouch.engines import ENGINES

    if not (args.names or args.all or args.purpose):
        raise InputError("name the models to install (see `retouch models starter`), or give --all or --purpose")
    if args.names and (args.all or args.purpose):
        raise InputError("give model names, or --all, or --purpose, not several")
    catalog = _catalog(args)
    entries = load_manifest(args.manifest).select(args.names, every=args.all, purpose=args.purpose)
    for entry in entries:
        bar = progress_bar(f"{entry.name}", disable=False, unit="B")
        bar.unit_scale = True
        bar.unit_divisor = 1024

        def progress(done: int, total: int | None, bar=bar) -> None:  # noqa: ANN001 - a tqdm bar
            if total is not None and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        try:
            result = install(entry, catalog, register=not args.download_only, reserved=ENGINES, on_progress=progress)
        finally:
            bar.close()
        where = ", ".join(map(str, result.paths))
        resumed = f", resumed from {result.resumed:,} bytes kept" if result.resumed else ""
        if result.status == "installed":
            print(f"installed {entry.name} ({entry.purpose}, {entry.licence}): {where}{resumed}")
        elif result.status == "downloaded":
            print(f"downloaded {entry.name}: {where}{resumed}")
        else:
            print(f"{entry.name} is already installed")
        if result.note and result.status != "already installed":
            print(f"note: {result.note}")
    return 0


def run_starter(args: argparse.Namespace) -> int:
    import json

    from retouch.catalog import load_catalog
    from retouch.catalog.install import installed
    from retouch.catalog.manifest import load_manifest

    catalog_path = _catalog(args)
    catalog = load_catalog(catalog_path) if catalog_path.is_file() else None
    entries = load_manifest(args.manifest).models
    here = {e.name: installed(e, catalog, catalog_path.parent) for e in entries}
    if getattr(args, "json", False):
        print(json.dumps([{**e.model_dump(exclude_none=True), "installed": here[e.name]} for e in entries], indent=2))
        return 0
    print(f"{'model':<16} {'purpose':<13} {'size':>9}  {'installed':<9}  licence")
    for e in entries:
        size = ("~" if e.size_approximate else "") + _human(e.size)
        gated = " (gated: needs HF_TOKEN)" if e.gated else ""
        print(f"{e.name:<16} {e.purpose:<13} {size:>9}  {'yes' if here[e.name] else 'no':<9}  {e.licence}{gated}")
    return 0


def _human(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def run_verify(args: argparse.Namespace) -> int:
    from retouch.catalog.install import verify

    catalog = _catalog(args)
    if not catalog.is_file():
        raise InputError(f"catalog {str(catalog)!r} does not exist")
    rows = verify(catalog)
    if not rows:
        print("no installed model recorded a sha256 (models `install` downloads record one)")
        return 0
    for name, what, ok in rows:
        print(f"{name:<24} {'ok' if ok else 'MISMATCH':<9} {what}")
    bad = [name for name, _, ok in rows if not ok]
    if bad:
        print(f"retouch: error: {', '.join(bad)} no longer match their recorded sha256", file=sys.stderr)
        return 2
    return 0


def run_scan(args: argparse.Namespace) -> int:
    from retouch.catalog.scan import scan
    from retouch.engines import ENGINES

    catalog = _catalog(args)
    result = scan(args.folder, catalog, reserved=ENGINES)
    for name, path, what in result.added:
        print(f"added {name} ({what}): {path}")
    for path, why in result.skipped:
        print(f"skipped {path}: {why}")
    print(f"{len(result.added)} added to {catalog}, {len(result.skipped)} skipped")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from retouch.catalog.install import remove

    catalog = _catalog(args)
    deleted = remove(catalog, args.name)
    print(f"removed {args.name} from {catalog}" + (f"; deleted {', '.join(map(str, deleted))}" if deleted else ""))
    return 0
