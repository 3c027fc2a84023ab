"""``%osc plot /address [--points N]``: a live line plot of the numbers arriving on an address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.options import split_options
from osc_live.commands.registry import ParseContext, Subcommand
from osc_live.commands.tokens import GrammarError, Token
from osc_live.commands.values import address

__all__ = ["SUBCOMMAND", "Plot"]

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Plot:
    """``plot /address [--points N]``."""

    address: str
    points: int = 200


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Plot:
    """``/address [--points N]`` (2..100000 points)."""
    pos, opts = split_options(tokens, {"points": ()})
    if not pos:
        raise GrammarError("plot needs an /address", None)
    if len(pos) > 1:
        raise GrammarError(f"unexpected {pos[1].text!r}: plot takes one /address", pos[1].text)
    points = 200
    if "points" in opts:
        raw = str(opts["points"])
        if not raw.isdigit() or not 2 <= int(raw) <= MAX_POINTS:
            raise GrammarError(f"bad value {raw!r} for --points: expected 2..{MAX_POINTS}", raw)
        points = int(raw)
    return Plot(address(pos[0], ctx.resolver()), points)


def run(cmd: Plot, session: Any) -> Any:
    """The session's new :class:`~osc_live.notebook.views.PlotView`."""
    return session.plot(cmd.address, cmd.points)


SUBCOMMAND = Subcommand(
    name="plot",
    usage="plot /address [--points N]",
    summary="live line plot of the numbers arriving on /address",
    command=Plot,
    parse=parse,
    run=run,
    options={"points": ()},
    completes="address",
)
