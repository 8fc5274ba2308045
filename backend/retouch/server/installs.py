"""The server's model installs: manifest entries queued and run one at a time on a thread of their own
(`workflows.install`), cancellable, each change published on the websocket (`model.install` events) by the one
place that makes it. When an install finishes, the engines it added join the server's engine table, so the
engine list and new jobs see them without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from retouch.catalog.manifest import Manifest
from retouch.engines import Hooks
from retouch.errors import Cancelled, InputError, RetouchError
from retouch.server.errors import internal_error
from retouch.server.schemas import ErrorPublic, Event, InstallPublic, ModelInstallEvent
from retouch.workflows import install as install_workflow

log = logging.getLogger(__name__)

FINAL = ("succeeded", "failed", "canceled")


class Installer:
    def __init__(
        self,
        manifest: Manifest,
        catalog: Path,
        publish: Callable[[Event], None],
        on_installed: Callable[[], None],
        reserved: set[str],
    ) -> None:
        self.manifest, self.catalog = manifest, catalog
        self._publish, self._on_installed, self._reserved = publish, on_installed, reserved
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: deque[str] = deque()
        self._states: dict[str, InstallPublic] = {}
        self._cancelled: set[str] = set()
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="retouch-installs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._cancelled.update(self._pending)
            running = [n for n, s in self._states.items() if s.state == "running"]
            self._cancelled.update(running)
            self._wake.notify_all()
        self._thread.join(10)

    def state(self, name: str) -> InstallPublic | None:
        with self._lock:
            found = self._states.get(name)
            return found.model_copy() if found is not None else None

    def submit(self, name: str) -> InstallPublic:
        """Queue an install of a manifest entry; the one already queued or running is returned as it is."""
        if self.manifest.get(name) is None:
            names = ", ".join(m.name for m in self.manifest.models)
            raise InputError(f"name must be a model of the manifest ({names}), got {name!r}")
        with self._lock:
            current = self._states.get(name)
            if current is not None and current.state not in FINAL:
                return current.model_copy()
            self._cancelled.discard(name)
            self._pending.append(name)
            state = self._set(InstallPublic(name=name, state="queued"))
            self._wake.notify_all()
            return state

    def cancel(self, name: str) -> InstallPublic:
        with self._lock:
            current = self._states.get(name)
            if current is None or current.state in FINAL:
                raise InputError(f"no install of {name!r} is queued or running")
            self._cancelled.add(name)
            if name in self._pending:
                self._pending.remove(name)
                return self._set(current.model_copy(update={"state": "canceled"}))
            return current.model_copy()

    def _set(self, state: InstallPublic) -> InstallPublic:
        """Record a state and publish it (called with the lock held)."""
        self._states[state.name] = state
        self._publish(ModelInstallEvent(install=state))
        return state.model_copy()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                name = self._pending.popleft()
                self._set(self._states[name].model_copy(update={"state": "running"}))
            self._run(name)

    def _run(self, name: str) -> None:
        entry = self.manifest.get(name)
        assert entry is not None

        def on_step(done: int, total: int, preview: object = None, stage: str = "") -> None:
            with self._lock:
                self._set(InstallPublic(name=name, state="running", done=done, total=total))

        hooks = Hooks(on_step=on_step, is_cancelled=lambda: name in self._cancelled)
        try:
            install_workflow.run(entry, self.catalog, hooks, reserved=self._reserved)
            self._on_installed()
        except Cancelled:
            final = InstallPublic(name=name, state="canceled")
        except RetouchError as exc:
            final = InstallPublic(name=name, state="failed", error=ErrorPublic(code=exc.code, message=exc.message))
        except Exception:  # a bug: logged with its traceback, never shown to a client
            message = internal_error(f"installing {name}")
            final = InstallPublic(name=name, state="failed", error=ErrorPublic(code="internal_error", message=message))
        else:
            size = entry.size
            final = InstallPublic(name=name, state="succeeded", done=size, total=size)
        with self._lock:
            self._set(final)
