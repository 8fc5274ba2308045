"""`benchmarks/gpu.py --quick`: every row of the GPU benchmark runs, on the CPU with tiny configurations.

The full-size figures need a GPU; this checks that the benchmark a GPU machine runs has no broken row: each model
family through Retouch's job and bare, with each speed option set from a catalog entry (compile wraps the modules
with dynamo switched off: its tracing takes minutes on a small CPU). Timings are not checked.
"""

from __future__ import annotations

from benchmarks import gpu


def test_every_row_of_the_gpu_benchmark_runs(capsys):
    assert gpu.main(["--quick"]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "---" not in line]
    rows = table[1:]  # after the header
    assert len(rows) == sum(gpu.row_count(model) for model in gpu.MODELS)
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert "failed" not in cells[-1], row
        assert float(cells[4]) > 0, row  # the bare call's seconds
        if "bare only" not in cells[-1]:
            assert float(cells[3]) > 0, row  # through Retouch
