"""``%osc status``: targets, listeners, the virtual synth, counters and handler errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.registry import ParseContext, Subcommand, no_more
from osc_live.commands.tokens import Token

__all__ = ["SUBCOMMAND", "Status", "status_text"]


@dataclass(frozen=True)
class Status:
    """``status``."""


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Status:
    """Takes no words."""
    no_more(tokens, "status takes nothing")
    return Status()


def status_text(status: dict[str, Any]) -> str:
    """``%osc status`` as text, from :meth:`OscSession.status`."""
    lines = [f"default target: {status['default'] or '—'}    loop: {status['loop']}"]
    for name, url in status["targets"].items():
        lines.append(f"  target   {name:<16} {url}")
    for name, text in status["listeners"].items():
        lines.append(f"  listener {name:<16} {text}")
    for name, text in status.get("resources", {}).items():
        lines.append(f"  open     {name:<16} {text}")
    synth = status["synth"]
    if synth:
        lines.append(
            f"  synth    udp {synth['udp']}  tcp {synth['tcp']}  received {synth['received']}"
        )
    if status.get("reply_ports"):
        lines.append("  udp from " + "  ".join(status["reply_ports"]))
    if status.get("tcp_ports"):
        lines.append("  tcp from " + "  ".join(status["tcp_ports"]))
    totals = status["totals"]
    lines.append("  counters " + "  ".join(f"{k} {v}" for k, v in totals.items()))
    for err in status["handler_errors"][-5:]:
        lines.append(f"  handler error: {err}")
    return "\n".join(lines)


def run(cmd: Status, session: Any) -> str:
    """The status text (printed by the magic)."""
    return status_text(session.status())


SUBCOMMAND = Subcommand(
    name="status",
    usage="status",
    summary="targets, listeners, the virtual synth and counters",
    command=Status,
    parse=parse,
    run=run,
)
