"""Server settings: flags, environment (RETOUCH_*) and defaults in one validated model."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from retouch.imaging.io import DEFAULT_MAX_PIXELS


def default_data_dir() -> Path:
    """`./data` when run from a checkout (a Makefile beside it), else the user's data folder."""
    if Path("Makefile").exists() and Path("backend/retouch").is_dir():
        return Path("data")
    from platformdirs import user_data_path

    return user_data_path("retouch")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on; anything but loopback needs a token.")
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir, description="SQLite file and image folder.")
    token: str | None = Field(None, min_length=16, description="Access token for HTTP and WebSocket.")
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1024, description="Largest accepted upload.")
    max_pixels: int = Field(DEFAULT_MAX_PIXELS, ge=64, description="Largest accepted picture, in pixels.")
    workers_per_device: int = Field(1, ge=1, le=16, description="Worker threads on each device.")
    devices: list[str] | None = Field(None, description="Devices to use (e.g. cuda:0); default: all found.")
    model_memory_budget: int | None = Field(
        None, ge=0, description="Bytes of models each worker keeps loaded; default: 80 % of its device's memory."
    )
    catalog: Path | None = Field(None, description="Model catalog (YAML); default: RETOUCH_CATALOG or models/.")
    engine_plugins: list[str] = Field(
        default_factory=list, description="Extra engines as `module:Class`, e.g. for test or custom engines."
    )
    preview_every: float = Field(0.25, ge=0, description="Least seconds between two previews of one job.")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names this server answers to besides loopback names and --host (`*`: any); "
        "a request naming another host is refused (DNS rebinding).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Web origins (e.g. https://studio.example) besides the server's own whose pages may call it.",
    )
    decode_memory: int = Field(
        1 << 30,
        ge=16 << 20,
        le=1 << 40,
        description="Bytes that concurrent picture decodes may hold at once; more decodes wait their turn "
        "(one decode alone always runs, so the largest allowed picture is never refused for it).",
    )
    picture_cache: int = Field(
        96 << 20, ge=0, le=1 << 40, description="Bytes of decoded pictures kept between upload and worker."
    )
    ws_max_connections: int = Field(256, ge=1, le=65536, description="Open websockets in all.")
    ws_max_per_client: int = Field(64, ge=1, le=65536, description="Open websockets from one client address.")
    ws_max_subscriptions: int = Field(10_000, ge=1, le=1_000_000, description="Jobs one websocket may follow.")
    retention_days: float = Field(
        30,
        ge=0,
        le=36500,
        description="Finished jobs, their results and uploads older than this are deleted (0: never by age).",
    )
    retention_bytes: int = Field(
        10 << 30,
        ge=0,
        le=1 << 50,
        description="Stored pictures beyond this many bytes are deleted, oldest first (0: no limit). "
        "Pictures of queued or running jobs are always kept.",
    )
    stop_grace: float = Field(
        30,
        ge=0,
        le=3600,
        description="On SIGTERM/Ctrl-C, seconds running jobs may take to finish; what is left is queued "
        "again for the next start without counting as a failed attempt.",
    )
    db_busy_timeout: float = Field(
        5,
        ge=0,
        le=600,
        description="Seconds a write waits for the database while another process (a backup tool) holds it; "
        "then the request is answered 503 with Retry-After, nothing written.",
    )
    ray: str | None = Field(
        None,
        min_length=1,
        description="Run jobs on the Ray cluster at this address (`host:port` of its head, or `auto` for the one "
        "`ray start --head` started on this machine) instead of this machine's devices.",
    )
    ray_cpu_workers: int = Field(1, ge=0, le=64, description="Workers on each Ray node that has no GPU.")
    ray_attempts: int = Field(
        3, ge=1, le=10, description="Times a job may lose its Ray worker (a node dying) before it fails."
    )

    @model_validator(mode="after")
    def _token_beyond_loopback(self) -> Settings:
        if not is_loopback(self.host) and not self.token:
            raise ValueError(
                f"listening on {self.host} reaches beyond this machine: set an access token "
                "(--token or RETOUCH_TOKEN, at least 16 characters)"
            )
        return self

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from RETOUCH_* variables, then explicit overrides (command-line flags)."""
        env: dict[str, Any] = {}
        if token := os.environ.get("RETOUCH_TOKEN"):
            env["token"] = token
        if data_dir := os.environ.get("RETOUCH_DATA_DIR"):
            env["data_dir"] = data_dir
        if catalog := os.environ.get("RETOUCH_CATALOG"):
            env["catalog"] = catalog
        for name in ("engine_plugins", "allowed_hosts", "allowed_origins"):
            if listed := os.environ.get(f"RETOUCH_{name.upper()}"):
                env[name] = [item.strip() for item in listed.split(",") if item.strip()]
        if busy_timeout := os.environ.get("RETOUCH_DB_BUSY_TIMEOUT"):
            env["db_busy_timeout"] = busy_timeout
        if ray := os.environ.get("RETOUCH_RAY"):
            env["ray"] = ray
        if cpu_workers := os.environ.get("RETOUCH_RAY_CPU_WORKERS"):
            env["ray_cpu_workers"] = cpu_workers
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)
