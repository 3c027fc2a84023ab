"""Running parsed ``%osc`` commands against the kernel session (no parsing, no IPython here).

Every function takes a command object from :mod:`osc_live.magics.grammar` and the
:class:`~osc_live.live.OscSession`; errors the user can fix are raised as :class:`CommandError`
(one line), which the magic turns into ``UsageError``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from osc_live.errors import OscError
from osc_live.magics import grammar as g
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.parsing.ntp import unix_to_ntp

__all__ = [
    "CommandError",
    "build_bundle",
    "build_message",
    "close_widget_bindings",
    "status_text",
]

IMMEDIATELY_NTP = 1


class CommandError(Exception):
    """A command that cannot run (no target, a network failure...): one line for the user."""


def build_message(spec: g.MessageSpec) -> OscMessage:
    """The :class:`OscMessage` for a parsed ``/address args`` (CommandError if not encodable)."""
    try:
        return OscMessage.from_parts(spec.address, list(spec.args), spec.encode_tags)
    except (OscError, ValueError, TypeError, OverflowError) as exc:
        raise CommandError(f"cannot encode {spec.address}: {exc}".splitlines()[0]) from None


def build_bundle(specs: Sequence[g.MessageSpec], at: float | None) -> OscBundle:
    """One bundle of ``specs``, timetagged at Unix time ``at`` (None: immediately)."""
    timetag = IMMEDIATELY_NTP if at is None else unix_to_ntp(at)
    return OscBundle.from_contents(timetag, [build_message(s) for s in specs])


def explain(cmd: g.Explain) -> Any:
    """The :class:`~osc_live.magics.explain.Explanation` of an ``explain`` command."""
    from osc_live.magics.explain import explain_packet

    if cmd.bundle:
        packet = build_bundle(cmd.messages, cmd.at).dgram
    else:
        packet = build_message(cmd.messages[0]).dgram
    return explain_packet(packet, cmd.tcp)


def _network(action: str, exc: BaseException) -> CommandError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return CommandError(f"{action}: {text}")


def run(cmd: g.Command, session: Any) -> Any:
    """Execute ``cmd`` on ``session``; returns what the magic should return or display."""
    if isinstance(cmd, g.Send):
        target = _target(session, cmd.target)
        message = build_message(cmd.message)
        try:
            target.send(message)
        except OSError as exc:
            raise _network(f"send to {target.name} failed", exc) from None
        return message
    if isinstance(cmd, g.Connect):
        url = None if cmd.endpoint is None else cmd.endpoint.url
        try:
            return session.connect(url, cmd.name, cmd.mode)
        except (OSError, TimeoutError) as exc:
            raise _network(f"cannot connect to {url or 'the virtual synth'}", exc) from None
    if isinstance(cmd, g.Listen):
        try:
            return session.listen(cmd.endpoint.url, thread=cmd.thread, name=cmd.name, mode=cmd.mode)
        except (OSError, TimeoutError) as exc:
            raise _network(f"cannot listen on {cmd.endpoint.url}", exc) from None
    if isinstance(cmd, g.On):
        # in a kernel, what the handler prints goes to a log view under this cell
        session.on(cmd.pattern, cmd.function, log=session.live_display)
        if session.live_display:
            return session.logs[-1]
        return f"{cmd.pattern} → {cmd.function_name}"
    if isinstance(cmd, g.Monitor):
        return session.monitor(cmd.pattern)
    if isinstance(cmd, g.Plot):
        return session.plot(cmd.address, cmd.points)
    if isinstance(cmd, g.Explain):
        return explain(cmd)
    if isinstance(cmd, g.Status):
        return status_text(session.status())
    if isinstance(cmd, g.Close):
        try:
            closed = session.close(cmd.name)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        name = cmd.name or "all"
        if cmd.name is None:  # the widget bindings go too (they map the session dispatcher)
            controls = close_widget_bindings()
            if controls:
                return f"closed all (and {controls} widget binding{'s' * (controls > 1)})"
        others = [n for n in closed or () if n != name]
        if others:  # close synth: the targets that pointed at it went with it
            return f"closed {name} (and its targets: {', '.join(others)})"
        return f"closed {name}"
    if isinstance(cmd, g.Help):
        return g.usage(cmd.topic)
    raise CommandError(f"unsupported command {cmd!r}")  # pragma: no cover


def send_cell(cell: g.Cell, session: Any) -> OscBundle | list[OscMessage]:
    """Send a ``%%osc`` cell: one bundle (``--bundle``/``--at``) or each message in order."""
    target = _target(session, cell.header.target)
    try:
        if cell.header.bundle:
            bundle = build_bundle(cell.messages, cell.header.at)
            target.send(bundle)
            return bundle
        sent = []
        for spec in cell.messages:
            message = build_message(spec)
            target.send(message)
            sent.append(message)
        return sent
    except OSError as exc:
        raise _network(f"send to {target.name} failed", exc) from None


def _target(session: Any, name: str | None) -> Any:
    try:
        return session.target(name)
    except LookupError as exc:
        raise CommandError(str(exc).strip("'\"")) from None


def status_text(status: dict[str, Any]) -> str:
    """``%osc status`` as text."""
    lines = [f"default target: {status['default'] or '—'}    loop: {status['loop']}"]
    for name, url in status["targets"].items():
        lines.append(f"  target   {name:<16} {url}")
    for name, text in status["listeners"].items():
        lines.append(f"  listener {name:<16} {text}")
    synth = status["synth"]
    if synth:
        lines.append(
            f"  synth    udp {synth['udp']}  tcp {synth['tcp']}  received {synth['received']}"
        )
    if status.get("reply_ports"):
        lines.append("  udp from " + "  ".join(status["reply_ports"]))
    totals = status["totals"]
    lines.append("  counters " + "  ".join(f"{k} {v}" for k, v in totals.items()))
    for err in status["handler_errors"][-5:]:
        lines.append(f"  handler error: {err}")
    return "\n".join(lines)


def close_widget_bindings() -> int:
    """Close every ``osc_live.widgets`` binding, if that module was ever imported.

    ``%osc close all`` and ``%unload_ext osc_live`` call this, so controls stop sending and
    stop following the old session's dispatcher (``widgets.close_all()``: every binding of the
    process; the widgets stay on screen, inert). Never imports ipywidgets. Returns how many
    bindings were open.
    """
    widgets = sys.modules.get("osc_live.widgets")
    if widgets is None:
        return 0
    count = len(widgets.bindings())
    widgets.close_all()
    return count
