"""`retouch serve`: the server and the canvas on http://127.0.0.1:8000."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError

from retouch import __version__
from retouch.cli.common import PLUGIN_HELP, plugins
from retouch.errors import InputError
from retouch.recipe import describe_validation_error

WS_MAX_MESSAGE = 1 << 20  # a websocket message (a subscription) is small


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
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        help="a host name the server answers to besides loopback and --host (repeatable; * = any)",
    )
    serve.add_argument(
        "--allowed-origin",
        action="append",
        default=None,
        help="a web origin besides the server's own whose pages may call it (repeatable)",
    )
    serve.add_argument(
        "--stop-grace",
        type=float,
        default=None,
        help="seconds running jobs get to finish on SIGTERM/Ctrl-C (default 30); the rest are queued again",
    )
    serve.add_argument(
        "--retention-days",
        type=float,
        default=None,
        help="delete finished jobs and pictures older than this (default 30; 0 = never by age)",
    )
    serve.add_argument(
        "--retention-gb",
        type=float,
        default=None,
        help="keep at most this many GB of pictures, oldest deleted first (default 10; 0 = no limit)",
    )
    serve.add_argument(
        "--decode-memory-mb",
        type=int,
        default=None,
        help="memory concurrent picture decodes may hold, in MB (default 1024)",
    )
    serve.add_argument(
        "--picture-cache-mb",
        type=int,
        default=None,
        help="memory for decoded pictures kept between upload and worker, in MB (default 96)",
    )
    serve.add_argument(
        "--ray",
        metavar="ADDRESS",
        default=None,
        help="run jobs on the Ray cluster whose head is at ADDRESS (host:port; `auto`: the one `ray start --head` "
        "started here) instead of this machine's devices (or RETOUCH_RAY); needs the `cluster` extra",
    )
    serve.add_argument(
        "--ray-cpu-workers",
        type=int,
        default=None,
        help="workers on each Ray node without a GPU (default 1; or RETOUCH_RAY_CPU_WORKERS)",
    )
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from retouch.server.app import create_app
    from retouch.server.migrations import open_database
    from retouch.server.runtime import limit_arenas, quiet_floods, raise_file_limit
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
            allowed_hosts=args.allowed_host,
            allowed_origins=args.allowed_origin,
            stop_grace=args.stop_grace,
            retention_days=args.retention_days,
            retention_bytes=int(args.retention_gb * 1e9) if args.retention_gb is not None else None,
            decode_memory=args.decode_memory_mb * 1024 * 1024 if args.decode_memory_mb else None,
            picture_cache=args.picture_cache_mb * 1024 * 1024 if args.picture_cache_mb is not None else None,
            ray=args.ray,
            ray_cpu_workers=args.ray_cpu_workers,
        )
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None
    # a damaged, read-only, full or locked data folder stops here, with one line (exit code 2)
    open_database(settings.data_dir, busy_timeout=settings.db_busy_timeout).close()
    if settings.ray:
        from retouch.server.cluster.pool import probe

        problem = probe(settings.ray)
        if problem is not None:
            raise InputError(f"cannot reach the Ray cluster at {settings.ray}: {problem}")
    quiet_floods()
    raise_file_limit()
    limit_arenas()
    print(f"Retouch {__version__} on http://{settings.host}:{settings.port} (data in {settings.data_dir})", flush=True)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=WS_MAX_MESSAGE,
        timeout_graceful_shutdown=5,
    )
    return 0
