"""The one benchmark command: every row of the speed table (codec, dispatch, transports).

    .venv/bin/python benchmarks/run.py            # the whole table, under 3 minutes
    .venv/bin/python benchmarks/run.py --quick    # shorter samples, fewer rounds
    .venv/bin/python benchmarks/run.py --only codec

Every row runs its peers (osc_live, python-osc 1.10.2, the other named peers, a raw socket pair
for the transports) side by side in this process, in interleaved rounds with the order rotated
each round (see ``benchmarks/_stats.py``); it prints the median rate with its min-max spread,
the median of the per-round ratios, the goal and the verdict, and the machine it ran on.
The table is Markdown: the README's table is this output.

Each part is a module ``benchmarks/bench_<part>.py`` with a function
``workloads(stack: contextlib.ExitStack, quick: bool) -> list[_stats.Workload]``: it sets up
what its samples need (servers, sockets, processes), registers their cleanup on ``stack``
and returns the workloads; this command measures them and closes ``stack`` after the part.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _stats import Row, format_table, machine, measure  # noqa: E402

PARTS = ("codec", "transport")


def main(argv: list[str] | None = None) -> int:
    """Measure every part and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter samples, 3 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (9)")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part")
    opts = parser.parse_args(argv)
    rounds = opts.rounds or (3 if opts.quick else 9)
    started = time.monotonic()
    before = machine()
    rows: list[Row] = []
    skipped: list[str] = []
    for part in opts.only or PARTS:
        module = importlib.import_module(f"bench_{part}")
        make = getattr(module, "workloads", None)
        if make is None:
            skipped.append(f"bench_{part}.py has no workloads() yet")
            continue
        with contextlib.ExitStack() as stack:
            for workload in make(stack, opts.quick):
                rows.append(measure(workload, rounds))
                print(f"  measured: {workload.name}", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started
    print(
        format_table(
            rows,
            title=(
                f"Measured by `python benchmarks/run.py{' --quick' if opts.quick else ''}` in "
                f"{elapsed:.0f} s: medians of {rounds} interleaved rounds (min-max in "
                f"parentheses); ratios are medians of per-round ratios.\n\n"
                f"Machine: {before}"
            ),
        )
    )
    for note in skipped:
        print(f"\n(skipped: {note})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
