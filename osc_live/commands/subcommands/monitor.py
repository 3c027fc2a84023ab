"""``%osc monitor [/pattern]``: a live table of what is received, sent and seen by the synth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.options import split_options
from osc_live.commands.registry import ParseContext, Subcommand
from osc_live.commands.tokens import GrammarError, Token
from osc_live.commands.values import address

__all__ = ["SUBCOMMAND", "Monitor"]


@dataclass(frozen=True)
class Monitor:
    """``monitor [/pattern]``."""

    pattern: str | None


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Monitor:
    """``[/pattern]``."""
    pos, _ = split_options(tokens, {})
    if len(pos) > 1:
        raise GrammarError(f"unexpected {pos[1].text!r}: monitor takes one /pattern", pos[1].text)
    return Monitor(address(pos[0], ctx.resolver(), "pattern") if pos else None)


def run(cmd: Monitor, session: Any) -> Any:
    """The session's new :class:`~osc_live.notebook.views.MonitorView`."""
    return session.monitor(cmd.pattern)


SUBCOMMAND = Subcommand(
    name="monitor",
    usage="monitor [/pattern]",
    summary="live table of received and sent messages",
    command=Monitor,
    parse=parse,
    run=run,
    completes="address",
)
