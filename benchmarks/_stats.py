"""Interleaved benchmark rounds, rows with medians, spreads and verdicts, and the table printer.

Shared by every ``benchmarks/bench_*.py`` that contributes rows to the one-command table
(``python benchmarks/run.py``).  The model:

- A :class:`Workload` names one job and the *peers* that do it: ``{"osc_live": sample,
  "python-osc": sample, "aiosc": sample, "raw pair": sample, ...}``.  A *sample* is a
  callable that performs the job for a while and returns the rate it achieved, in operations
  per second (:func:`timed` makes one from a function doing one operation).
- :func:`measure` runs ``rounds`` rounds; each round takes one sample of every peer, the
  order rotated by one from round to round, so that a burst of load from another process
  hits every peer alike and no peer always runs first (warm caches, CPU frequency).
- The resulting :class:`Row` keeps every sample: rates are reported as the median with the
  spread (min-max over the rounds), and a ratio against a reference as the median of the
  per-round ratios (both rates of a ratio come from the same round).
- :class:`Goal` s (``ratio of the subject vs a reference >= at_least``) give the verdict:
  ``met`` when the median ratio reaches every goal, else ``NOT met``.

Nothing here asserts a time: the table reports, the reader judges.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "SUBJECT",
    "Goal",
    "Row",
    "Sample",
    "Workload",
    "format_rate",
    "format_table",
    "machine",
    "measure",
    "timed",
]

SUBJECT = "osc_live"
"""The peer every ratio is about."""

Sample = Callable[[], float]
"""Performs the workload once (a burst of operations); returns operations per second."""


@dataclass(frozen=True)
class Goal:
    """``rate(subject) / rate(reference) >= at_least`` (medians of per-round ratios)."""

    reference: str
    at_least: float

    def __str__(self) -> str:
        return f">= {self.at_least:g}x {self.reference}"


@dataclass
class Workload:
    """One job done by several peers, with the goals of the subject against references.

    ``unit`` names what one operation is (``msg`` / ``op`` / ``packet``); ``note`` is a short
    remark printed under the table (how it is measured, why a peer is missing).
    """

    name: str
    peers: dict[str, Sample]
    goals: list[Goal] = field(default_factory=list)
    subject: str = SUBJECT
    unit: str = "op"
    note: str = ""


@dataclass
class Row:
    """The measured outcome of one :class:`Workload`: every sample of every peer."""

    workload: str
    subject: str
    rates: dict[str, list[float]]
    goals: list[Goal]
    unit: str = "op"
    note: str = ""

    def median(self, peer: str) -> float:
        """Median rate of ``peer`` over the rounds (operations per second)."""
        return statistics.median(self.rates[peer])

    def spread(self, peer: str) -> tuple[float, float]:
        """Lowest and highest rate of ``peer`` over the rounds."""
        rates = self.rates[peer]
        return min(rates), max(rates)

    def ratios(self, reference: str, peer: str | None = None) -> list[float]:
        """Per-round ratios ``rate(peer) / rate(reference)`` (peer: the subject)."""
        mine = self.rates[peer or self.subject]
        theirs = self.rates[reference]
        return [a / b for a, b in zip(mine, theirs, strict=True) if b > 0]

    def ratio(self, reference: str, peer: str | None = None) -> float:
        """Median of the per-round ratios of ``peer`` (the subject) against ``reference``."""
        ratios = self.ratios(reference, peer)
        return statistics.median(ratios) if ratios else float("nan")

    def goal_met(self, goal: Goal) -> bool | None:
        """Whether the median ratio reaches ``goal`` (None when the reference did not run)."""
        if goal.reference not in self.rates or self.subject not in self.rates:
            return None
        return self.ratio(goal.reference) >= goal.at_least

    @property
    def verdict(self) -> str:
        """``met``, ``NOT met`` (naming the goals missed) or ``-`` (no goal / no reference)."""
        outcomes = [(goal, self.goal_met(goal)) for goal in self.goals]
        known = [(goal, ok) for goal, ok in outcomes if ok is not None]
        if not known:
            return "-"
        missed = [goal for goal, ok in known if not ok]
        if not missed:
            return "met" if len(known) == len(outcomes) else "met (some references missing)"
        return "NOT met: " + ", ".join(
            f"{self.ratio(goal.reference):.2f}x {goal.reference} < {goal.at_least:g}x"
            for goal in missed
        )


def timed(
    operation: Callable[[], object], number: int, *, clock: Callable[[], float] = time.perf_counter
) -> Sample:
    """A sample that calls ``operation()`` ``number`` times and returns calls per second."""

    def sample() -> float:
        op = operation
        loop = range(number)
        start = clock()
        for _ in loop:
            op()
        elapsed = clock() - start
        return number / elapsed if elapsed > 0 else float("inf")

    return sample


def measure(workload: Workload, rounds: int, *, warmup: bool = True) -> Row:
    """Run ``rounds`` interleaved rounds of ``workload`` (each peer once per round, the
    order rotated each round) and return the row.  ``warmup`` takes one unrecorded sample
    of each peer first (caches, lazily built plans, sockets)."""
    names = list(workload.peers)
    if warmup:
        for name in names:
            workload.peers[name]()
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            rates[name].append(workload.peers[name]())
    return Row(
        workload=workload.name,
        subject=workload.subject,
        rates=rates,
        goals=list(workload.goals),
        unit=workload.unit,
        note=workload.note,
    )


def format_rate(rate: float) -> str:
    """``871k``, ``1.15M``, ``7.9k``, ``312``: three significant digits at most."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if rate >= scale:
            value = rate / scale
            return f"{value:.3g}{suffix}"
    return f"{rate:.3g}"


def _cell(row: Row, peer: str) -> str:
    low, high = row.spread(peer)
    return f"{format_rate(row.median(peer))}/s ({format_rate(low)}-{format_rate(high)})"


def format_table(rows: Sequence[Row], *, title: str = "") -> str:
    """The rows as one Markdown table.

    Columns: workload; the subject's rate; python-osc's rate and the ratio to it; the other
    peers as ``name rate (ratio)``; the goals; the verdict.  Rates are medians over the
    rounds with the min-max spread in parentheses, ratios are medians of per-round ratios
    with their min-max.
    """
    lines: list[str] = []
    if title:
        lines += [title, ""]
    lines.append(
        "| workload | osc_live | python-osc | ratio | other peers (ratio) | goal | verdict |"
    )
    lines.append("|---|--:|--:|--:|---|---|---|")
    notes: list[str] = []
    for row in rows:
        subject = _cell(row, row.subject) if row.subject in row.rates else "n/a"
        if "python-osc" in row.rates and row.subject in row.rates:
            ratios = row.ratios("python-osc")
            ref = _cell(row, "python-osc")
            ratio = f"{row.ratio('python-osc'):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        else:
            ref, ratio = "", ""
        others = []
        for peer in row.rates:
            if peer in (row.subject, "python-osc"):
                continue
            text = f"{peer} {format_rate(row.median(peer))}/s"
            if row.subject in row.rates:
                text += f" ({row.ratio(peer):.2f}x)"
            others.append(text)
        goals = "; ".join(str(goal) for goal in row.goals)
        lines.append(
            f"| {row.workload} | {subject} | {ref} | {ratio} | {'; '.join(others)} |"
            f" {goals} | {row.verdict} |"
        )
        if row.note:
            notes.append(f"- {row.workload}: {row.note}")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line saying what the numbers were measured on (CPU, cores, load, OS, Python)."""
    try:
        load = "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load n/a"
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {load}; {platform.system()} "
        f"{platform.release()}; {platform.python_implementation()} {sys.version.split()[0]}"
    )
