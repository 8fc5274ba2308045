"""`retouch serve`: the server and the canvas on http://127.0.0.1:8000."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError

from retouch import __version__
from retouch.cli.common import PLUGIN_HELP, plugins
from retouch.errors import InputError
from retouch.recipe import describe_validation_error


def add(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="start the server and the canvas (http://127.0.0.1:8000)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (beyond loopback needs --token)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path, default=None, help="SQLite file and pictures (default ./data)")
    serve.add_argument("--token", default=None, help="access token (or RETOUCH_TOKEN)")
    serve.add_argument("--workers-per-device", type=int, default=None)
    serve.add_argument("--max-upload-mb", type=int, default=None, help="largest upload in MB")
    serve.add_argument("--max-pixels", type=int, default=None, help="largest picture in pixels")
    serve.add_argument("--catalog", type=Path, default=None, help="model catalog YAML")
    serve.add_argument("--engine-plugin", action="append", default=None, help=PLUGIN_HELP)
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from retouch.server.app import create_app
    from retouch.server.settings import Settings

    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            token=args.token,
            workers_per_device=args.workers_per_device,
            max_upload_bytes=args.max_upload_mb * 1024 * 1024 if args.max_upload_mb else None,
            max_pixels=args.max_pixels,
            catalog=args.catalog,
            engine_plugins=plugins(args.engine_plugin) or None,
        )
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None
    print(f"Retouch {__version__} on http://{settings.host}:{settings.port} (data in {settings.data_dir})", flush=True)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", ws="websockets-sansio")
    return 0
