"""Round trip through the real server next to the raw library call, plus queue throughput and event latency;
or, with --clients, the server under load; or, with --events-under-load, event latency while 20 clients load it.

    python benchmarks/api_latency.py [--repeat 5]
    python benchmarks/api_latency.py --clients 20 [--trips 10] [--size 512]
    python benchmarks/api_latency.py --events-under-load [--before OTHER_CHECKOUT] [--clients 20]

`--before` runs the same measurement first on another checkout's server code (its `backend/`), e.g. main's
before a change, so one run prints both.

Round trip = upload picture and mask, create a `telea` job, wait for `job.succeeded` on the websocket,
fetch the result PNG. The server runs as `retouch serve` in its own process, as users run it.
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

from retouch.engines import Engine, Hooks  # noqa: E402
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


def picture(size: int) -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    image = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    mask = np.zeros((size, size), np.uint8)
    side = int(size * 0.3)
    mask[(size - side) // 2 : (size + side) // 2, (size - side) // 2 : (size + side) // 2] = 255
    return image, mask


async def round_trips(base: str, image_png: bytes, mask_png: bytes, engine: str, repeat: int) -> list[dict]:
    """Round trips over one kept-open HTTP client and websocket, as the canvas does. Stage times in s."""
    trips = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as http,
        websockets.connect(base.replace("http", "ws") + "/api/v1/ws", max_size=None) as ws,
    ):
        for _ in range(repeat + 1):  # the first one warms up
            start = time.perf_counter()
            image_id = (await http.post("/api/v1/images", files={"file": ("i.png", image_png)})).json()["id"]
            mask_id = (await http.post("/api/v1/images", files={"file": ("m.png", mask_png)})).json()["id"]
            uploaded = time.perf_counter()
            job = (await http.post("/api/v1/jobs", json={"image": image_id, "mask": mask_id, "engine": engine})).json()
            await ws.send(json.dumps({"type": "subscribe", "job_ids": [job["id"]]}))
            while True:
                event = json.loads(await ws.recv())
                if event.get("job_id") != job["id"]:
                    continue
                if event["type"] == "job.succeeded":
                    break
                if event["type"] in ("job.failed", "job.canceled"):
                    raise RuntimeError(event)
            done = time.perf_counter()
            result = await http.get(f"/api/v1/images/{event['result']['image']}")
            assert result.status_code == 200
            end = time.perf_counter()
            trips.append(
                {"upload": uploaded - start, "job": done - uploaded, "fetch": end - done, "total": end - start}
            )
    return trips[1:]


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


async def load(
    base: str, image_png: bytes, mask_png: bytes, clients: int, trips: int
) -> tuple[list[float], int, float]:
    """`clients` clients at once, each with its own connection and websocket doing `trips` round trips (the
    first of each not timed). Returns the timed round trips' seconds, the clients that failed, the wall time."""

    async def client() -> list[float]:
        return [trip["total"] for trip in await round_trips(base, image_png, mask_png, "telea", trips - 1)]

    start = time.perf_counter()
    results = await asyncio.gather(*(client() for _ in range(clients)), return_exceptions=True)
    wall = time.perf_counter() - start
    times = [t for result in results if isinstance(result, list) for t in result]
    return times, sum(isinstance(result, BaseException) for result in results), wall


def load_mode(args: argparse.Namespace) -> None:
    image, mask = picture(args.size)
    with TemporaryDirectory() as tmp:
        port = 18000 + os.getpid() % 1000
        process = start_server(Path(tmp), port)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(round_trips(base, _png(image), _png(mask), "telea", 1))  # warm up: imports, first decode
            idle = resident(process.pid)
            reset_peak(process.pid)
            times, failed, wall = asyncio.run(load(base, _png(image), _png(mask), args.clients, args.trips))
            peak = resident(process.pid, "VmHWM")
            # after the load: the server's housekeeping gives memory back within a few seconds of going idle
            after = idle
            for _ in range(20):
                time.sleep(0.5)
                after = resident(process.pid)
                if after <= 1.5 * idle:
                    break
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    times.sort()
    p50, p95 = times[len(times) // 2] * 1000, times[int(len(times) * 0.95)] * 1000
    print(
        f"Load: {args.clients} clients x {args.trips} telea round trips at {args.size}², each client with its own "
        "connection and websocket"
    )
    done = (args.clients - failed) * args.trips
    print(
        f"{'round trips':>12} {'failed clients':>15} {'throughput':>11} {'p50':>8} {'p95':>8} "
        f"{'RSS idle':>9} {'RSS peak':>9} {'RSS after':>10} {'after/idle':>11}"
    )
    print(
        f"{done:>12} {failed:>15} {done / wall:>9.1f}/s "
        f"{p50:>6.0f}ms {p95:>6.0f}ms {idle / 1e6:>7.0f}MB {peak / 1e6:>7.0f}MB {after / 1e6:>8.0f}MB "
        f"{after / idle:>10.2f}x"
    )
    print("goal: memory after the load within 1.5x of idle")


def start_server(
    data_dir: Path, port: int, code: Path = ROOT, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.Popen:
    """`retouch serve` from the checkout `code` (its `backend/`), with this file's engines as plugins."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([str(ROOT), str(code / "backend")])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "retouch.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--engine-plugin",
            "benchmarks.api_latency:NoopEngine",
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


async def throughput(base: str, image_png: bytes, mask_png: bytes, jobs: int) -> float:
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as http,
        websockets.connect(base.replace("http", "ws") + "/api/v1/ws", max_size=None) as ws,
    ):
        image_id = (await http.post("/api/v1/images", files={"file": ("i.png", image_png)})).json()["id"]
        mask_id = (await http.post("/api/v1/images", files={"file": ("m.png", mask_png)})).json()["id"]
        start = time.perf_counter()
        ids = []
        for _ in range(jobs):
            response = await http.post("/api/v1/jobs", json={"image": image_id, "mask": mask_id, "engine": "noop"})
            ids.append(response.json()["id"])
        await ws.send(json.dumps({"type": "subscribe", "job_ids": ids}))
        done: set[str] = set()
        while len(done) < jobs:
            event = json.loads(await ws.recv())
            if event.get("type") == "job.succeeded":
                done.add(event["job_id"])
        return jobs / (time.perf_counter() - start)


def event_latency(steps: int = 200) -> list[float]:
    """Worker step -> websocket client, with the server in this process so both share one clock."""
    import socket

    import uvicorn

    from retouch.engines import ENGINES
    from retouch.registry import Registry
    from retouch.server.app import create_app
    from retouch.server.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with TemporaryDirectory() as tmp:
        app = create_app(Settings(port=port, data_dir=Path(tmp)), engines=Registry({**ENGINES, "clock": ClockEngine}))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        image, mask = picture(64)

        async def run() -> list[float]:
            base = f"http://127.0.0.1:{port}"
            async with (
                httpx.AsyncClient(base_url=base) as http,
                websockets.connect(base.replace("http", "ws") + "/api/v1/ws?session=benchmark-session") as ws,
            ):
                await ws.send(json.dumps({"type": "subscribe", "all": True}))
                image_id = (await http.post("/api/v1/images", files={"file": ("i.png", _png(image))})).json()["id"]
                mask_id = (await http.post("/api/v1/images", files={"file": ("m.png", _png(mask))})).json()["id"]
                response = await http.post(
                    "/api/v1/jobs",
                    json={"image": image_id, "mask": mask_id, "engine": "clock", "steps": steps},
                    headers={"X-Retouch-Session": "benchmark-session"},
                )
                response.raise_for_status()
                received = {}
                while True:
                    event = json.loads(await ws.recv())
                    if event.get("type") == "job.progress":
                        received[event["step"]] = time.monotonic()
                    if event.get("type") == "job.succeeded":
                        break
            return [received[s] - ClockEngine.emitted[s - 1] for s in sorted(received) if s > 0]

        latencies = asyncio.run(run())
        server.should_exit = True
        thread.join(10)
    return latencies


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
            code,
            ("--workers-per-device", "2", "--engine-plugin", "benchmarks.api_latency:ClockEngine"),
            {"RETOUCH_BENCH_CLOCK": str(clock_file)},
        )
        base = f"http://127.0.0.1:{port}"
        holder = None
        try:
            asyncio.run(round_trips(base, _png(image), _png(mask), "telea", 1))  # warm up
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=200, help="jobs for the throughput run")
    parser.add_argument("--clients", type=int, default=0, help="load mode: this many clients at once")
    parser.add_argument("--trips", type=int, default=10, help="load mode: round trips per client")
    parser.add_argument("--size", type=int, default=512, help="load mode: picture side")
    parser.add_argument(
        "--events-under-load", action="store_true", help="event latency while --clients (20) clients load the server"
    )
    parser.add_argument(
        "--before", default=None, help="with --events-under-load: also run this checkout's server first"
    )
    args = parser.parse_args()
    if args.events_under_load:
        events_under_load_mode(args)
        return
    if args.clients:
        load_mode(args)
        return

    with TemporaryDirectory() as tmp:
        port = 18000 + os.getpid() % 1000
        process = start_server(Path(tmp), port)
        base = f"http://127.0.0.1:{port}"
        try:
            print("Round trip over a kept-open connection: upload picture + mask, job until `job.succeeded` on")
            print("the websocket, fetch the result PNG; `telea`, 30 % square hole. Medians in ms.")
            print("CPU columns: the raw call's CPU time and the server process's CPU time per round trip (mean),")
            print("which other load on the machine hardly moves; their difference is the server's own work.")
            print(
                f"{'size':>6} {'raw cv2.inpaint':>16} {'upload':>8} {'job':>8} {'fetch':>8} {'round trip':>11} "
                f"{'overhead':>9} {'raw CPU':>8} {'server CPU':>11} {'CPU overhead':>13}"
            )
            for size in (512, 1024):
                image, mask = picture(size)
                raw, raw_cpu = [], []
                for _ in range(args.repeat):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    cv2.inpaint(image, mask, 5, cv2.INPAINT_TELEA)
                    raw.append(time.perf_counter() - start)
                    raw_cpu.append(time.process_time() - start_cpu)
                image_png, mask_png = _png(image), _png(mask)
                asyncio.run(round_trips(base, image_png, mask_png, "telea", 0))  # warm-up, not counted
                before = cpu_seconds(process.pid)
                trips = asyncio.run(round_trips(base, image_png, mask_png, "telea", args.repeat - 1))
                server_cpu = (cpu_seconds(process.pid) - before) / args.repeat * 1000
                r, rc = statistics.median(raw) * 1000, statistics.median(raw_cpu) * 1000
                stage = {key: statistics.median(trip[key] for trip in trips) * 1000 for key in trips[0]}
                print(
                    f"{size:>6} {r:>14.1f}ms {stage['upload']:>6.1f}ms {stage['job']:>6.1f}ms "
                    f"{stage['fetch']:>6.1f}ms {stage['total']:>9.1f}ms {stage['total'] - r:>7.1f}ms "
                    f"{rc:>6.1f}ms {server_cpu:>9.1f}ms {server_cpu - rc:>11.1f}ms"
                )
            print("goal: overhead <= 40 ms at 512², <= 80 ms at 1024²")

            image, mask = picture(64)
            rate = asyncio.run(throughput(base, _png(image), _png(mask), args.jobs))
            print(f"\nQueue throughput, no-op engine, 64x64, {args.jobs} jobs: {rate:.0f} jobs/s")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(10)

    latencies = sorted(event_latency())
    p50 = latencies[len(latencies) // 2] * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    print(
        f"Event latency, worker step -> websocket client ({len(latencies)} events): p50 {p50:.2f} ms, p95 {p95:.2f} ms"
    )


if __name__ == "__main__":
    main()
