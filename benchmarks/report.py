"""Printing a benchmark's measures as an aligned text table."""

from __future__ import annotations


def print_measures(rows: list[tuple[str, str, str]], last: str = "goal") -> None:
    """Rows of (measure, value, goal or note), each column as wide as its widest cell."""
    width = max(len(row[0]) for row in rows)
    value = max(len(row[1]) for row in rows)
    print(f"{'measure':<{width}} | {'value':<{value}} | {last}")
    print(f"{'-' * width}-|-{'-' * value}-|-{'-' * len(last)}")
    for name, cell, goal in rows:
        print(f"{name:<{width}} | {cell:<{value}} | {goal}".rstrip())
