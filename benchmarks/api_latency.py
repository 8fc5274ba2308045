"""The server's round trip next to the bare library call, stage by stage, and its throughput under load next to
a process pool running the bare call on the same cores, all in one run.

    python benchmarks/api_latency.py                  # stages, round trips, load (about 2 minutes)
    python benchmarks/api_latency.py --repeat 15 --clients 20 --trips 10 --workers 2
    python benchmarks/api_latency.py --events-under-load [--before OTHER_CHECKOUT] [--clients 20]

`--events-under-load` measures instead the event latency (worker step -> websocket client) and the event loop's
delay while 20 clients load the server; `--before` runs the same first on another checkout's server code (its
`backend/`), e.g. main's before a change, so one run prints both.

A round trip, as the canvas makes it over one kept-open HTTP connection and websocket: upload the picture and
its mask, create a `telea` job (radius 5; a centred square hole of 10 % of the area), wait for `job.succeeded`
on the websocket, fetch the result PNG. The bare call is `cv2.inpaint` on the same arrays, interleaved with the
round trips. PNG encoding on the client is done beforehand (not timed). Three parts:

1. Stages: the server in this process (uvicorn in a thread) with timers around its own functions, so each
   stage of a round trip is measured where it happens: upload (the two POSTs, of which decoding), create (the
   job's POST: checks and queueing), hand-off (queued -> a worker has it), fill (the workflow: pipeline and
   engine), encode (the result PNG), store (file, record and success in one transaction), event (the success
   published -> the client has it), fetch.
2. Round trips through `retouch serve` in its own process, as users run it: medians, and the ratio to the bare
   call (goals: <= 1.3x at 512², <= 1.2x at 1024²).
3. Load: `--clients` clients at once, each with its own connection and websocket, `--trips` round trips each,
   against the same server; next to a process pool of one process per core running the bare call on the same
   arrays (goal: >= 0.8x its fills per second); p50/p95 latency; the server's memory idle, at its peak and after.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import cv2
import httpx
import numpy as np
import websockets
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "backend")]

from retouch.engines import ENGINES, Engine, Hooks  # noqa: E402
from retouch.recipe import FillParams  # noqa: E402


class NoopEngine(Engine):
    """Returns the region as it is: what is left is the server's own cost."""

    name = "noop"

    def fill(self, image, mask, params: FillParams, seed: int, hooks: Hooks):
        hooks.step(1, 1)
        return image


class ClockEngine(Engine):
    """Reports `steps` steps, noting when each was reported (`time.monotonic`, one clock for every process on
    the machine), for event latency; in a `retouch serve` process the times go to the file `$RETOUCH_BENCH_CLOCK`."""

    name = "clock"
    emitted: list[float] = []

    def fill(self, image, mask, params: FillParams, seed: int, hooks: Hooks):
        ClockEngine.emitted = []
        for step in range(1, params.steps + 1):
            time.sleep(0.01)
            ClockEngine.emitted.append(time.monotonic())
            hooks.step(step, params.steps)
        if clock_file := os.environ.get("RETOUCH_BENCH_CLOCK"):
            Path(clock_file).write_text("\n".join(map(repr, ClockEngine.emitted)))
        return image


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


HOLE = 0.10  # of the picture's area
RADIUS = 5


def picture(size: int) -> tuple[np.ndarray, np.ndarray]:
    """skimage's astronaut at size², and a centred square hole of `HOLE` of the area."""
    from skimage import data

    image = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    mask = np.zeros((size, size), np.uint8)
    side = round(size * HOLE**0.5)
    start = (size - side) // 2
    mask[start : start + side, start : start + side] = 255
    return image, mask


def bare(image: np.ndarray, mask: np.ndarray) -> float:
    start = time.perf_counter()
    cv2.inpaint(image, mask, RADIUS, cv2.INPAINT_TELEA)
    return time.perf_counter() - start


class Client:
    """One canvas-like client: a kept-open HTTP connection and websocket."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def __aenter__(self) -> Client:
        self.http = httpx.AsyncClient(base_url=self.base, timeout=120)
        self.ws = await websockets.connect(self.base.replace("http", "ws") + "/api/v1/ws", max_size=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        await self.http.aclose()

    async def trip(self, image_png: bytes, mask_png: bytes, engine: str = "telea") -> dict[str, float]:
        """One round trip; client-side stage times in seconds, and `received` (when the success arrived)."""
        http, ws = self.http, self.ws
        start = time.perf_counter()
        image_id = (await http.post("/api/v1/images", files={"file": ("i.png", image_png)})).json()["id"]
        mask_id = (await http.post("/api/v1/images", files={"file": ("m.png", mask_png)})).json()["id"]
        uploaded = time.perf_counter()
        body = {"image": image_id, "mask": mask_id, "engine": engine}
        job = (await http.post("/api/v1/jobs", json=body)).json()
        created = time.perf_counter()
        await ws.send(json.dumps({"type": "subscribe", "job_ids": [job["id"]]}))
        while True:
            event = json.loads(await ws.recv())
            if event.get("job_id") != job["id"]:
                continue
            if event["type"] == "job.succeeded":
                break
            if event["type"] in ("job.failed", "job.canceled"):
                raise RuntimeError(event)
        received = time.perf_counter()
        result = await http.get(event["result"].get("url") or f"/api/v1/images/{event['result']['image']}")
        assert result.status_code == 200, result.status_code
        end = time.perf_counter()
        return {
            "upload": uploaded - start,
            "create": created - uploaded,
            "wait": received - created,
            "fetch": end - received,
            "total": end - start,
            "received": received,
        }


async def interleaved(
    base: str, size: int, repeat: int, stages: Stages | None = None
) -> tuple[list[dict], list[float], list[float]]:
    """`repeat` round trips after a warm-up, each after one bare call on the same arrays: (trips, with the
    server's stage times when `stages` are installed; bare seconds; bare CPU seconds)."""
    image, mask = picture(size)
    image_png, mask_png = _png(image), _png(mask)
    rows, bares, bare_cpu = [], [], []
    async with Client(base) as client:
        await client.trip(image_png, mask_png)  # warm-up
        for _ in range(repeat):
            start = time.process_time()
            bares.append(bare(image, mask))
            bare_cpu.append(time.process_time() - start)
            if stages is not None:
                stages.current = {}
            trip = await client.trip(image_png, mask_png)
            if stages is not None:
                trip.update(stages.current, event=trip["received"] - stages.published)
            rows.append(trip)
    return rows, bares, bare_cpu


async def warm_up(base: str, image_png: bytes, mask_png: bytes) -> None:
    """One round trip (imports, first decode), not timed."""
    async with Client(base) as client:
        await client.trip(image_png, mask_png)


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


# ------------------------------------------------------------------------------------------ 1. stages


class Stages:
    """Timers around the server's own functions (this process), summed per round trip."""

    def __init__(self) -> None:
        self.current: dict[str, float] = {}
        self.lock = threading.Lock()
        self.submitted = 0.0
        self.published = 0.0

    def add(self, stage: str, seconds: float) -> None:
        with self.lock:
            self.current[stage] = self.current.get(stage, 0.0) + seconds

    def timed(self, stage: str, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(stage, time.perf_counter() - start)

        return wrapper

    def install(self) -> None:
        """Wrap decode, fill, encode and store; note when a job is queued, taken and announced."""
        from retouch.server import events, pool, queue, store
        from retouch.workflows import WORKFLOWS, base

        store.load_picture = self.timed("decode", store.load_picture)
        fill = WORKFLOWS["fill"]
        fill.run = self.timed("fill", fill.run)  # type: ignore[method-assign]
        base.WorkflowResult.png = self.timed("encode", base.WorkflowResult.png)  # type: ignore[method-assign]
        pool.keep_result = self.timed("store", pool.keep_result)

        submit, work, publish = queue.SqliteJobQueue.submit, pool.Worker._work, events.EventHub.publish
        stages = self

        def submit_noted(self, *args, **kwargs):
            job = submit(self, *args, **kwargs)
            stages.submitted = time.perf_counter()
            return job

        def work_noted(self, *args, **kwargs):
            stages.add("hand-off", time.perf_counter() - stages.submitted)
            return work(self, *args, **kwargs)

        def publish_noted(self, event, session=None):
            if getattr(event, "type", "") == "job.succeeded":
                stages.published = time.perf_counter()
            return publish(self, event, session)

        queue.SqliteJobQueue.submit = submit_noted  # type: ignore[method-assign]
        pool.Worker._work = work_noted  # type: ignore[method-assign]
        events.EventHub.publish = publish_noted  # type: ignore[method-assign]


def in_process_server(data_dir: Path, workers: int):
    """The app under uvicorn in a thread of this process; (base URL, server) once it answers."""
    import socket

    import uvicorn

    from retouch.registry import Registry
    from retouch.server.app import create_app
    from retouch.server.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(port=port, data_dir=data_dir, workers_per_device=workers)
    app = create_app(settings, engines=Registry({**ENGINES, "noop": NoopEngine}))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the in-process server did not start (see above)")
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server


STAGE_ORDER = ("upload", "decode", "create", "hand-off", "fill", "encode", "store", "event", "fetch")


def stage_profile(sizes: list[int], repeat: int, workers: int) -> None:
    stages = Stages()
    stages.install()
    print("1. Stages of a round trip (server in this process, timers around its functions). Medians in ms;")
    print("   `decode` is part of `upload`; `hand-off`, `fill`, `encode`, `store` and `event` of the wait.")
    header = "".join(f"{name:>9}" for name in STAGE_ORDER)
    print(f"{'size':>6}{header}{'round trip':>12}{'bare':>8}{'ratio':>7}")
    with TemporaryDirectory() as tmp:
        base, server = in_process_server(Path(tmp), workers)
        try:
            for size in sizes:
                rows, bares, _ = asyncio.run(interleaved(base, size, repeat, stages))
                cells = "".join(f"{median_ms([r.get(name, 0.0) for r in rows]):>9.1f}" for name in STAGE_ORDER)
                total, reference = median_ms([r["total"] for r in rows]), median_ms(bares)
                print(f"{str(size) + '²':>6}{cells}{total:>12.1f}{reference:>8.1f}{total / reference:>7.2f}")
        finally:
            server.should_exit = True


# ------------------------------------------------------------------------------------------ 2. round trips


def start_server(
    data_dir: Path,
    port: int,
    workers: int,
    *,
    code: Path = ROOT,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """`retouch serve` from the checkout `code` (its `backend/`), with this file's no-op engine as a plugin."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([str(ROOT), str(code / "backend")])}
    command = [sys.executable, "-m", "retouch.cli", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    command += ["--workers-per-device", str(workers), "--engine-plugin", "benchmarks.api_latency:NoopEngine", *extra]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def round_trip_table(base: str, pid: int, sizes: list[int], repeat: int) -> None:
    print("\n2. Round trips through `retouch serve` (its own process). Medians in ms; CPU = the server")
    print("   process's CPU time per round trip (all its threads) and the bare call's, which load moves less.")
    print(
        f"{'size':>6}{'bare':>8}{'upload':>8}{'create':>8}{'wait':>8}{'fetch':>8}{'round trip':>12}{'ratio':>7}"
        f"{'goal':>7}{'bare CPU':>10}{'server CPU':>12}"
    )
    for size in sizes:
        before = cpu_seconds(pid)
        rows, bares, bare_cpu = asyncio.run(interleaved(base, size, repeat))
        server_cpu = (cpu_seconds(pid) - before) / (repeat + 1) * 1000
        cells = "".join(f"{median_ms([r[k] for r in rows]):>8.1f}" for k in ("upload", "create", "wait", "fetch"))
        total, reference = median_ms([r["total"] for r in rows]), median_ms(bares)
        goal = 1.3 if size <= 512 else 1.2
        print(
            f"{str(size) + '²':>6}{reference:>8.1f}{cells}{total:>12.1f}{total / reference:>7.2f}{goal:>6.1f}x"
            f"{median_ms(bare_cpu):>10.1f}{server_cpu:>12.1f}"
        )


# ------------------------------------------------------------------------------------------ 3. load


_ARRAYS: tuple[np.ndarray, np.ndarray] | None = None


def _pool_init(size: int) -> None:
    global _ARRAYS
    _ARRAYS = picture(size)


def _pool_fill(_: int) -> None:
    assert _ARRAYS is not None
    cv2.inpaint(_ARRAYS[0], _ARRAYS[1], RADIUS, cv2.INPAINT_TELEA)


def process_pool_rate(size: int, fills: int) -> float:
    """Fills per second of a process pool of one process per core running the bare call (arrays already there)."""
    from concurrent.futures import ProcessPoolExecutor

    processes = os.cpu_count() or 1
    with ProcessPoolExecutor(processes, initializer=_pool_init, initargs=(size,)) as executor:
        list(executor.map(_pool_fill, range(processes * 2)))  # warm-up: every process started
        start = time.perf_counter()
        list(executor.map(_pool_fill, range(fills)))
        return fills / (time.perf_counter() - start)


async def load(
    base: str, image_png: bytes, mask_png: bytes, clients: int, trips: int
) -> tuple[list[float], int, float]:
    """`clients` clients at once, `trips` round trips each. Returns their seconds, failed clients, wall time."""

    async def client() -> list[float]:
        async with Client(base) as one:
            return [(await one.trip(image_png, mask_png))["total"] for _ in range(trips)]

    start = time.perf_counter()
    results = await asyncio.gather(*(client() for _ in range(clients)), return_exceptions=True)
    wall = time.perf_counter() - start
    times = [t for result in results if isinstance(result, list) for t in result]
    return times, sum(isinstance(result, BaseException) for result in results), wall


def load_table(base: str, pid: int, size: int, clients: int, trips: int) -> None:
    image, mask = picture(size)
    image_png, mask_png = _png(image), _png(mask)
    asyncio.run(warm_up(base, image_png, mask_png))
    idle = resident(pid)
    reset_peak(pid)
    before = process_pool_rate(size, clients * trips)  # before and after the load, so both see the machine alike
    times, failed, wall = asyncio.run(load(base, image_png, mask_png, clients, trips))
    peak = resident(pid, "VmHWM")
    reference = (before + process_pool_rate(size, clients * trips)) / 2
    after = idle
    for _ in range(20):  # the server's housekeeping gives memory back within seconds of going idle
        time.sleep(0.5)
        after = resident(pid)
        if after <= 1.5 * idle:
            break
    done = (clients - failed) * trips
    times.sort()
    p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
    print(f"\n3. Load: {clients} clients x {trips} round trips at {size}², at once; bare = a process pool of")
    print(
        f"   {os.cpu_count()} processes running cv2.inpaint on the same arrays, as many fills, before and after (mean)."
    )
    print(
        f"{'trips':>6}{'failed':>7}{'server':>10}{'bare pool':>11}{'ratio':>7}{'goal':>6}{'p50':>8}{'p95':>8}"
        f"{'RSS idle':>10}{'peak':>8}{'after':>8}{'after/idle':>11}"
    )
    print(
        f"{done:>6}{failed:>7}{done / wall:>8.1f}/s{reference:>9.1f}/s{done / wall / reference:>7.2f}{0.8:>5.1f}x"
        f"{p50:>7.2f}s{p95:>7.2f}s{idle / 1e6:>8.0f}MB{peak / 1e6:>6.0f}MB{after / 1e6:>6.0f}MB{after / idle:>10.2f}x"
    )


def resident(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of a process in bytes (VmRSS now, VmHWM the peak since start or since `reset_peak`)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: unlike wall time, hardly moved by other load on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def _load_process(base: str, image_png: bytes, mask_png: bytes, clients: int, trips: int, out) -> None:
    times, failed, wall = asyncio.run(load(base, image_png, mask_png, clients, trips))
    out.send((times, failed, wall))


async def _watch_clock_job(base: str, steps: int) -> dict[int, float]:
    """Queue a `clock` job at the front and note when each of its progress events arrives."""
    image, mask = picture(64)
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as http,
        websockets.connect(base.replace("http", "ws") + "/api/v1/ws") as ws,
    ):
        image_id = (await http.post("/api/v1/images", files={"file": ("i.png", _png(image))})).json()["id"]
        mask_id = (await http.post("/api/v1/images", files={"file": ("m.png", _png(mask))})).json()["id"]
        job = {"image": image_id, "mask": mask_id, "engine": "clock", "steps": steps, "priority": 100}
        response = await http.post("/api/v1/jobs", json=job)
        response.raise_for_status()
        await ws.send(json.dumps({"type": "subscribe", "job_ids": [response.json()["id"]]}))
        received: dict[int, float] = {}
        while True:
            event = json.loads(await ws.recv())
            if event.get("type") == "job.progress" and event["step"] > 0:
                received[event["step"]] = time.monotonic()
            if event.get("type") in ("job.succeeded", "job.failed"):
                return received


async def _probe_loop(base: str, seconds: float) -> list[float]:
    """Round trips of `GET /engines` (no database: only the event loop's own delay), every 20 ms."""
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.monotonic()
            (await http.get("/api/v1/engines")).raise_for_status()
            times.append(time.monotonic() - start)
            await asyncio.sleep(0.02)
    return times


async def _watch(base: str, steps: int, probe_seconds: float) -> tuple[dict[int, float], list[float]]:
    return await asyncio.gather(_watch_clock_job(base, steps), _probe_loop(base, probe_seconds))


HOLD_LOOP = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
while True:
    connection.execute("BEGIN EXCLUSIVE")
    time.sleep(1.0)
    connection.execute("COMMIT")
    time.sleep(2.0)
"""


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    """(p50, p99, max) in ms."""
    values = sorted(values)
    return (
        values[len(values) // 2] * 1000,
        values[min(len(values) - 1, int(len(values) * 0.99))] * 1000,
        values[-1] * 1000,
    )


def events_under_load(
    code: Path, clients: int, trips: int, size: int, *, held: bool, steps: int = 200, probe_seconds: float = 12
) -> dict[str, float]:
    """While `clients` clients do telea round trips at `size`² on the server code of checkout `code`: the event
    latency (worker step -> websocket client) of one job, and the round trip of `GET /engines`, which reads no
    database (the event loop's own delay). `held`: another process holds the database 1 s in every 3 s (a
    backup tool). The load runs in a child process, so the watcher's loop is not the one under load."""
    import multiprocessing

    image, mask = picture(size)
    with TemporaryDirectory() as tmp:
        port = 18000 + (os.getpid() + len(str(code))) % 1000
        clock_file = Path(tmp) / "clock.txt"
        process = start_server(
            Path(tmp) / "data",
            port,
            2,
            code=code,
            extra=("--engine-plugin", "benchmarks.api_latency:ClockEngine"),
            env={"RETOUCH_BENCH_CLOCK": str(clock_file)},
        )
        base = f"http://127.0.0.1:{port}"
        holder = None
        try:
            asyncio.run(warm_up(base, _png(image), _png(mask)))
            receiver, sender = multiprocessing.Pipe(duplex=False)
            loader = multiprocessing.get_context("fork").Process(
                target=_load_process, args=(base, _png(image), _png(mask), clients, trips, sender)
            )
            loader.start()
            if held:
                holder = subprocess.Popen([sys.executable, "-c", HOLD_LOOP, str(Path(tmp) / "data" / "retouch.db")])
            time.sleep(2.0)  # every client connected and busy
            received, probes = asyncio.run(_watch(base, steps, probe_seconds))
            if holder is not None:
                holder.kill()
                holder.wait()
            times, failed, wall = receiver.recv()
            loader.join(60)
            emitted = [float(line) for line in clock_file.read_text().split()]
        finally:
            if holder is not None and holder.poll() is None:
                holder.kill()
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    events = _percentiles([received[step] - emitted[step - 1] for step in received])
    times.sort()
    return {
        "events": len(received),
        "event": events,
        "loop": _percentiles(probes),
        "trip_p50": times[len(times) // 2] * 1000 if times else float("nan"),
        "failed": failed,
        "rate": (clients - failed) * trips / wall,
    }


def events_under_load_mode(args: argparse.Namespace) -> None:
    clients = args.clients or 20
    runs = [("before", Path(args.before))] if args.before else []
    runs.append(("this checkout", ROOT))
    print(
        f"While {clients} clients each do {args.trips} telea round trips at {args.size}² (own connection and "
        "websocket each; server with 2 workers):\n  event = worker step -> websocket client, one job of 200 steps "
        "at priority 100;\n  loop = round trip of GET /engines (reads no database: the event loop's own delay), "
        "every 20 ms for 12 s;\n  database `held`: another process holds it 1 s in every 3 s (BEGIN EXCLUSIVE)"
    )
    print(
        f"{'server code':>34} {'database':>8} {'event p50':>10} {'p99':>8} {'max':>8} {'loop p50':>9} {'p99':>8} "
        f"{'max':>8} {'trip p50':>9} {'trips/s':>8} {'failed':>6}"
    )
    for held in (False, True):
        for label, code in runs:
            figures = events_under_load(code, clients, args.trips, args.size, held=held)
            name = f"{label} ({code})"
            event, loop = figures["event"], figures["loop"]
            print(
                f"{name[-34:]:>34} {'held' if held else 'free':>8} {event[0]:>8.1f}ms {event[1]:>6.0f}ms "
                f"{event[2]:>6.0f}ms {loop[0]:>7.1f}ms {loop[1]:>6.0f}ms {loop[2]:>6.0f}ms "
                f"{figures['trip_p50']:>7.0f}ms {figures['rate']:>8.1f} {figures['failed']:>6}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="round trips per size (after a warm-up)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--clients", type=int, default=20, help="load: clients at once (0: no load part)")
    parser.add_argument("--trips", type=int, default=10, help="load: round trips per client")
    parser.add_argument("--size", type=int, default=512, help="load: picture side")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="the server's --workers-per-device (default: cores)"
    )
    parser.add_argument("--skip-stages", action="store_true", help="leave out part 1")
    parser.add_argument(
        "--events-under-load",
        action="store_true",
        help="instead: event latency while --clients clients load the server",
    )
    parser.add_argument(
        "--before", default=None, help="with --events-under-load: also run this checkout's server first"
    )
    args = parser.parse_args()
    if args.events_under_load:
        events_under_load_mode(args)
        return
    load1, load5, _ = os.getloadavg()
    print(
        f"{os.cpu_count()} cores, load average {load1:.1f} (1 min) {load5:.1f} (5 min); telea radius {RADIUS}, "
        f"{HOLE:.0%} hole; server workers per device: {args.workers}\n"
    )
    if not args.skip_stages:
        stage_profile(args.sizes, args.repeat, args.workers)
    with TemporaryDirectory() as tmp:
        port = 18000 + os.getpid() % 1000
        process = start_server(Path(tmp), port, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            round_trip_table(base, process.pid, args.sizes, args.repeat)
            if args.clients:
                load_table(base, process.pid, args.size, args.clients, args.trips)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    load1, _, _ = os.getloadavg()
    print(f"\nload average at the end: {load1:.1f}")


if __name__ == "__main__":
    main()
