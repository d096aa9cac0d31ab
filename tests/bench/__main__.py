"""``make bench``: run every benchmark, print its figures, write them into README.md.

Each ``bench_*.py`` module exposes ``run() -> list[str]`` (result lines, each naming its
target where the issue sets one). Figures go between the bench markers of README's
Performance section, with the machine they were measured on.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
BENCHES = [
    "bench_scoring",
    "bench_titles",
    "bench_rescore",
    "bench_sync",
    "bench_webhooks",
    "bench_insights",
    "bench_health",
    "bench_dashboard",
]


def machine() -> str:
    """Where the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main(selected: list[str]) -> None:
    """Run the selected benchmarks (default: all) and record them."""
    names = selected or BENCHES
    lines: list[str] = []
    for name in names:
        module = importlib.import_module(f"tests.bench.{name}")
        started = time.perf_counter()
        results = module.run()
        print(f"[{name}] ({time.perf_counter() - started:.0f}s)")
        for result in results:
            print(f"  {result}")
        # A result indented under the one before it stays a nested item.
        lines += [f"  - {r.lstrip()}" if r.startswith("  ") else f"- {r}" for r in results]
    stamp = f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()} with `make bench`:"
    block = "\n".join([START, stamp, "", *lines, END])
    text = README.read_text()
    if START in text and END in text and not selected:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        README.write_text(before + block + after)
        print(f"wrote figures to {README.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
