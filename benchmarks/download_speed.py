"""Download throughput of `retouch models install`'s downloader against `curl`, from the same local server, and
the bytes a resume transfers for a file cut at half.

    python -m benchmarks.download_speed [--mb 500] [--repeats 3]

The server is the tests' file server (127.0.0.1, HTTP Range, sendfile). Both clients write the file to the same
disk; Retouch also hashes it (sha256 and md5, as it verifies a download) and fsyncs it before renaming. The
reference is `curl -s -o FILE` in the same run; the ratio is what to read on a loaded machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.report import print_measures
from retouch.catalog.download import download, file_sums, part_path
from retouch.errors import RetouchError
from tests.file_server import serving


def make_file(path: Path, megabytes: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        for index in range(megabytes):
            out.write(block[index % 251 :] + block[: index % 251])  # no two megabytes alike


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=500, help="file size in MiB (goal: 500)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        needed = 3 * args.mb * (1 << 20)
        if shutil.disk_usage(root).free < needed:
            raise SystemExit(f"needs {needed:,} bytes free in {root}")
        (root / "served").mkdir()
        source = root / "served" / "model.bin"
        make_file(source, args.mb)
        size = source.stat().st_size
        sha, md5 = file_sums(source)
        curl_times, checked_times, retouch_times = [], [], []
        with serving(root / "served") as server:
            url = f"{server.url}/model.bin"
            for _ in range(args.repeats):
                target = root / "curl.bin"
                start = time.perf_counter()
                subprocess.run(["curl", "-s", "-f", "-o", str(target), url], check=True)
                curl_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                subprocess.run(["sha256sum", str(target)], check=True, capture_output=True)
                checked_times.append(time.perf_counter() - start + curl_times[-1])
                target.unlink()
                target = root / "retouch.bin"
                start = time.perf_counter()
                download(url, target, what="bench", size=size, sha256=sha)
                retouch_times.append(time.perf_counter() - start)
                target.unlink()
            # resume: the server drops the connection at half; the second run asks for the rest
            target = root / "resumed.bin"
            server.log.clear()
            server.cut_after["model.bin"] = size // 2
            try:
                download(url, target, what="bench", size=size, sha256=sha, md5=md5)
            except RetouchError:
                pass
            kept = part_path(target).stat().st_size
            done = download(url, target, what="bench", size=size, sha256=sha, md5=md5)
            transferred = server.sent("model.bin")
        curl = statistics.median(curl_times)
        ours = statistics.median(retouch_times)
        checked = statistics.median(checked_times)
        mib = size / (1 << 20)
        load = os.getloadavg()[0]
        print(f"file {mib:.0f} MiB over 127.0.0.1, median of {args.repeats}; load average {load:.1f}\n")
        print_measures(
            [
                ("curl -o FILE", f"{curl:.2f} s ({mib / curl:.0f} MiB/s)", "reference"),
                (
                    "curl, then sha256sum",
                    f"{checked:.2f} s ({mib / checked:.0f} MiB/s)",
                    "what verifying by hand costs",
                ),
                ("retouch download (sha256 while fetching, fsync)", f"{ours:.2f} s ({mib / ours:.0f} MiB/s)", ""),
                ("retouch / curl time", f"{ours / curl:.2f}", "<= 1.05"),
                ("retouch / (curl + sha256sum) time", f"{ours / checked:.2f}", ""),
                ("resume: .part kept after the cut", f"{kept / (1 << 20):.0f} MiB", f"{mib / 2:.0f} MiB"),
                (
                    "resume: second run transferred",
                    f"{done.transferred / (1 << 20):.0f} MiB",
                    f"<= {mib * 260 / 500:.0f} MiB",
                ),
                ("resume: server sent in all (cut + rest)", f"{transferred / (1 << 20):.0f} MiB", f"{mib:.0f} MiB"),
            ]
        )


if __name__ == "__main__":
    main()
