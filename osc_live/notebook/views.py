"""Live outputs of the session: the monitor table and the line plot, refreshed in place.

A view is displayed once with a display id; the session marks it dirty as messages arrive and
its refresh timer calls :meth:`LiveView.refresh` at most ``refresh_hz`` (≤ 10) times a second,
which sends one ``DisplayHandle.update`` (never a ``print`` from a callback).
"""

from __future__ import annotations

import html
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from osc_live._pattern import compile_pattern
from osc_live.notebook.format import format_args

__all__ = ["LiveView", "LogView", "MonitorView", "PlotView", "address_filter"]

logger = logging.getLogger("osc_live.notebook")

#: seconds over which the monitor's rate/s is measured
RATE_WINDOW = 0.5


def address_filter(pattern: str | None) -> Callable[[str], bool] | None:
    """A test of addresses against an OSC address pattern (``* ? [a-z] {a,b} //``), with
    :func:`osc_live._pattern.compile_pattern`; a malformed pattern matches itself only.
    None for no pattern (everything matches)."""
    if not pattern:
        return None
    matcher = compile_pattern(pattern)
    if matcher is None:
        return pattern.__eq__
    return lambda address: bool(matcher.fullmatch(address))


class _Frame:
    """What a view displays: HTML for notebooks, text for terminals."""

    def __init__(self, html_text: str, text: str) -> None:
        self.html_text = html_text
        self.text = text

    def _repr_html_(self) -> str:
        return self.html_text

    def __repr__(self) -> str:
        return self.text


class LiveView:
    """Base of the monitor and the plot: shown once, refreshed in place when dirty."""

    kind = "view"

    def __init__(self, owner: Any, pattern: str | None) -> None:
        self.owner = owner
        self.pattern = pattern
        self.accept = address_filter(pattern)
        self.dirty = True
        self.frames = 0
        self.handle: Any = None
        self.closed = False

    def matches(self, address: str) -> bool:
        """True if messages on ``address`` concern this view."""
        return self.accept is None or self.accept(address)

    def frame(self) -> _Frame:  # pragma: no cover - abstract
        raise NotImplementedError

    def wants_refresh(self) -> bool:
        """True if the view must be drawn again even without new messages."""
        return False

    def _ipython_display_(self) -> None:
        self.show()

    def show(self) -> None:
        """Display the view with a display id (a kernel then refreshes it in place)."""
        from IPython.display import display

        self.handle = display(self.frame(), display_id=True)  # type: ignore[no-untyped-call]
        self.dirty = False
        self.frames += 1

    def refresh(self) -> None:
        """Render one frame now (called by the session's refresh timer)."""
        self.dirty = False
        self.frames += 1
        if self.handle is not None and self.owner.live_display:
            try:
                self.handle.update(self.frame())
            except Exception:  # the frontend went away: stop refreshing this view
                logger.debug("display update failed", exc_info=True)
                self.handle = None

    def __repr__(self) -> str:
        return repr(self.frame())


class MonitorView(LiveView):
    """Live table: direction, address, types, last args, peer, count, rate/s.

    Shows the ``rows`` most recently updated rows of the session's traffic table (reading
    only those), newest first. The rate of a row is measured over :data:`RATE_WINDOW`
    seconds; after traffic stops the view keeps refreshing until every rate shown is 0.
    """

    kind = "monitor"

    def __init__(self, owner: Any, pattern: str | None = None, rows: int = 50) -> None:
        super().__init__(owner, pattern)
        self.max_rows = rows
        self._seen: dict[tuple[str, str, str], tuple[int, float, float]] = {}

    def table(self) -> list[tuple[str, str, str, str, str, int, float]]:
        """The rows shown: (dir, address, types, args, peer, count, rate/s), newest first."""
        now = time.monotonic()
        rows = self.owner.traffic.recent(self.max_rows, self.accept)
        seen: dict[tuple[str, str, str], tuple[int, float, float]] = {}
        out = []
        for r in rows:
            key = (r.direction, r.address, r.peer)
            count0, t0, rate = self._seen.get(key, (r.count, now, 0.0))
            if now - t0 >= RATE_WINDOW:
                rate = (r.count - count0) / (now - t0)
                count0, t0 = r.count, now
            seen[key] = (count0, t0, rate)
            args = format_args(r.args, r.type_tags, limit=60)
            out.append((r.direction, r.address, r.type_tags, args, r.peer, r.count, rate))
        self._seen = seen  # only the rows shown: bounded by max_rows
        return out

    def wants_refresh(self) -> bool:
        """True while a rate shown is not yet 0 (so it decays after traffic stops)."""
        if self.closed or not any(rate > 0 for _, _, rate in self._seen.values()):
            return False
        self.dirty = True
        return True

    def frame(self) -> _Frame:
        rows = self.table()
        traffic = self.owner.traffic
        totals = traffic.totals_copy()
        title = (
            f"OSC monitor {self.pattern or ''} — received {totals['received']}, "
            f"sent {totals['sent']}, synth {totals['synth']}"
        )
        if traffic.evicted:
            title += f" ({len(traffic)} addresses kept, {traffic.evicted} older dropped)"
        head = ("dir", "address", "types", "args", "peer", "count", "rate/s")
        esc = html.escape
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in (*r[:6], f"{r[6]:.1f}")) + "</tr>"
            for r in rows
        )
        html_text = (
            f"<div class='osc-live-monitor'><b>{esc(title)}</b><table><thead><tr>"
            + "".join(f"<th>{h}</th>" for h in head)
            + f"</tr></thead><tbody>{body}</tbody>"
            "</table></div>"
        )
        lines = [title] + [
            f"{r[0]:<8} {r[1]:<24} {r[2]:<8} {r[3]:<30} {r[4]:<21} {r[5]:>7} {r[6]:>8.1f}"
            for r in rows
        ]
        return _Frame(html_text, "\n".join(lines))


class PlotView(LiveView):
    """Live line plot (inline SVG) of the numeric arguments of one address."""

    kind = "plot"

    def __init__(self, owner: Any, address: str, points: int = 200) -> None:
        super().__init__(owner, address)
        self.points: deque[tuple[float, tuple[float, ...]]] = deque(maxlen=points)
        self.count = 0
        self._lock = threading.Lock()

    def add(self, args: Sequence[Any], now: float) -> None:
        """Append the numeric arguments of one message (from any thread)."""
        values = tuple(
            float(a) for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)
        )
        if values:
            with self._lock:
                self.points.append((now, values))
                self.count += 1
            self.dirty = True

    def series(self) -> list[list[float]]:
        """One list of values per argument position."""
        with self._lock:
            points = list(self.points)
        width = max((len(v) for _, v in points), default=0)
        return [[v[i] if i < len(v) else math.nan for _, v in points] for i in range(width)]

    def frame(self) -> _Frame:
        series = self.series()
        finite = [x for s in series for x in s if math.isfinite(x)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        w, h, pad = 480, 160, 4
        n = max((len(s) for s in series), default=0)
        colors = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
        lines = []
        for k, s in enumerate(series):
            pts = " ".join(
                f"{pad + (w - 2 * pad) * i / max(n - 1, 1):.1f},"
                f"{h - pad - (h - 2 * pad) * (v - lo) / (hi - lo):.1f}"
                for i, v in enumerate(s)
                if math.isfinite(v)
            )
            lines.append(
                f"<polyline fill='none' stroke='{colors[k % len(colors)]}' "
                f"stroke-width='1.5' points='{pts}'/>"
            )
        last = series_last = [s[-1] for s in series] if series else []
        title = (
            f"{self.pattern} — {self.count} messages, last "
            f"{format_args(series_last, limit=60) if last else '—'}, range [{lo:.4g}, {hi:.4g}]"
        )
        svg = (
            f"<svg class='osc-live-plot' width='{w}' height='{h}' "
            f"xmlns='http://www.w3.org/2000/svg'><rect width='{w}' height='{h}' "
            f"fill='white' stroke='#ccc'/>{''.join(lines)}</svg>"
        )
        return _Frame(f"<div><b>{html.escape(title)}</b><br>{svg}</div>", "plot " + title)


class LogView(LiveView):
    """What a handler mapped with ``%osc on`` prints, shown under the cell that mapped it.

    In a kernel, ``print`` in a receiver callback goes nowhere (ipywidgets #4020); the session
    captures the handler's stdout and appends it here instead (the last ``lines`` lines). The
    header says how often the handler ran and how much it printed.
    """

    kind = "log"

    def __init__(self, owner: Any, pattern: str, name: str, lines: int = 30) -> None:
        super().__init__(owner, pattern)
        self.name = name
        self.lines: deque[str] = deque(maxlen=lines)
        self.count = 0
        self.calls = 0
        self.errors = 0
        self.last_error = ""
        self._lock = threading.Lock()

    def called(self, printed: str = "") -> None:
        """One call of the handler, and what it printed (may be empty)."""
        with self._lock:
            self.calls += 1
            if printed:
                for line in printed.rstrip("\n").split("\n"):
                    self.lines.append(line)
                    self.count += 1
        self.dirty = True

    def failed(self, error: str) -> None:
        """The handler raised ``error`` (``"TypeError: ..."``): counted, the last one shown."""
        with self._lock:
            self.errors += 1
            self.last_error = error if len(error) <= 200 else error[:199] + "…"
        self.dirty = True

    def append(self, text: str) -> None:
        """Add printed text (split into lines) without counting a call."""
        with self._lock:
            for line in text.rstrip("\n").split("\n"):
                self.lines.append(line)
                self.count += 1
        self.dirty = True

    def title(self) -> str:
        """``/pattern → name: called 3 times, printed 2 lines``, and when it raised: ``, raised
        2 times (last: TypeError: ...)``."""
        head = f"{self.pattern} → {self.name}"
        if not self.calls:
            return f"{head}: not called yet"
        calls = f"called {self.calls} time{'s' if self.calls != 1 else ''}"
        if not self.count:
            printed = "printed nothing"
        else:
            printed = f"printed {self.count} line{'s' if self.count != 1 else ''}"
            if self.count > len(self.lines):
                printed += f" (last {len(self.lines)} shown)"
        title = f"{head}: {calls}, {printed}"
        if self.errors:
            times = f"{self.errors} time{'s' if self.errors != 1 else ''}"
            title += f", raised {times} (last: {self.last_error})"
        return title

    def frame(self) -> _Frame:
        with self._lock:
            title = self.title()
            body = "\n".join(self.lines)
        return _Frame(
            f"<div class='osc-live-log'><b>{html.escape(title)}</b>"
            f"<pre style='margin:0'>{html.escape(body)}</pre></div>",
            title + ("\n" + body if body else ""),
        )
