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
        if plugins := os.environ.get("RETOUCH_ENGINE_PLUGINS"):
            env["engine_plugins"] = [p for p in plugins.split(",") if p]
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)
