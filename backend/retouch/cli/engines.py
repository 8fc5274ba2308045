"""`retouch engines` (what each engine can do) and `retouch models` (the catalog: list, add; install, starter,
verify, scan and remove are in `cli.install`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from retouch.catalog import FAMILIES, SAM, SPANDREL
from retouch.cli import install
from retouch.cli.common import CATALOG_HELP, Parser, add_engine_options, registry
from retouch.errors import InputError


def add(sub: argparse._SubParsersAction) -> None:
    engines = sub.add_parser(
        "engines", help="list the engines (built-in, catalog models, plugins) and what each can do"
    )
    engines.add_argument("--json", action="store_true", help="print JSON")
    add_engine_options(engines)
    engines.set_defaults(run=list_engines)

    models = sub.add_parser("models", help="list the models in your catalog and whether each is here")
    models.add_argument("--catalog", type=Path, default=None, help=CATALOG_HELP)
    models.add_argument("--json", action="store_true", help="print JSON")
    models.set_defaults(run=list_models)
    models_sub = models.add_subparsers(dest="models_command", parser_class=Parser)
    add_model = models_sub.add_parser(
        "add",
        help="register a diffusers folder, .safetensors file or hub id, a model spandrel loads "
        "(LaMa, MAT, upscalers, face restorers: .safetensors, or a .pth/.ckpt/.pt state dict), "
        "or a segment-anything transformers folder (family sam)",
    )
    add_model.add_argument("source", help="diffusers folder, .safetensors/.pth file, or hub id (owner/name)")
    add_model.add_argument("--name", required=True, help="the engine name jobs will use")
    add_model.add_argument(
        "--family",
        choices=[*FAMILIES, SPANDREL, SAM],
        default=None,
        help="model family (detected from local files; needed for hub ids)",
    )
    add_model.add_argument(
        "--config", default=None, help="for a single file: diffusers folder or hub id with its configs and tokenizers"
    )
    add_model.add_argument("--description", default="")
    # SUPPRESS: `retouch models --catalog X add ...` keeps X instead of resetting it to None
    add_model.add_argument("--catalog", type=Path, default=argparse.SUPPRESS, help=CATALOG_HELP)
    add_model.set_defaults(run=add_to_catalog)
    install.add(models_sub)


def list_engines(args: argparse.Namespace) -> int:
    rows = [engine().capabilities() for engine in registry(args).values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'engine':<16} {'purpose':<17} {'weights':<8} {'prompt':<7} {'native':<7} description")
    for row in rows:
        native = str(row["native_size"] or "-")
        weights = "yes" if row["needs_weights"] else "no"
        prompt = "yes" if row["takes_prompt"] else "no"
        purpose = _purpose(row)
        print(f"{row['name']:<16} {purpose:<17} {weights:<8} {prompt:<7} {native:<7} {row['description']}")
    _licence_notes(rows)
    return 0


def _purpose(row: dict) -> str:
    scale = row.get("scale") or 1
    return f"{row['purpose']} {scale}x" if row.get("purpose") == "upscaling" else str(row.get("purpose", "inpainting"))


def _licence_notes(rows: list[dict]) -> None:
    for row in rows:
        if row.get("licence"):
            print(f"note: {row['name']} ({row.get('architecture') or row['family']}): {row['licence']}")


def _catalog(given: Path | None) -> Path:
    from retouch.catalog import user_catalog_path

    return given or user_catalog_path()


def list_models(args: argparse.Namespace) -> int:
    from retouch.catalog import entry_summary, load_catalog, presence

    path = _catalog(args.catalog)
    if not path.is_file():
        if args.json:
            print("[]")
            return 0
        print(f"no models yet ({path} does not exist); add one with `retouch models add PATH --name NAME`")
        return 0
    catalog = load_catalog(path)
    rows = []
    for entry in catalog.models:
        present, where = presence(entry, path.parent)
        rows.append(
            {"name": entry.name, **entry_summary(entry), "present": present, "where": where, "source": entry.source}
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no models in {path}; add one with `retouch models add PATH --name NAME`")
        return 0
    print(f"{'model':<24} {'family':<13} {'present':<8} {'purpose':<17} where")
    for row in rows:
        here = "yes" if row["present"] else "NO"
        print(f"{row['name']:<24} {row['family']:<13} {here:<8} {_purpose(row):<17} {row['where']}")
    _licence_notes(rows)
    return 0


def add_to_catalog(args: argparse.Namespace) -> int:
    from retouch.catalog import CatalogEntry, SpandrelEntry, add_model
    from retouch.engines import ENGINES

    path = _catalog(args.catalog)
    if path.is_dir():
        raise InputError(f"catalog {str(path)!r} is a folder; give a .yaml file")
    local = Path(args.source).expanduser()
    source = str(local.resolve()) if local.exists() else args.source  # a path as typed, from where it was typed
    entry = add_model(
        path, source, args.name, family=args.family, config=args.config, description=args.description, reserved=ENGINES
    )
    label = FAMILIES[entry.family].label if isinstance(entry, CatalogEntry) else entry.label
    print(f"added {entry.name} ({entry.family}, {label}) to {path}")
    if isinstance(entry, SpandrelEntry) and entry.licence:
        print(f"note: {entry.architecture}: {entry.licence}")
    return 0
