"""``%osc help [subcommand]``: usage, generated from the subcommand modules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands import registry
from osc_live.commands.registry import ParseContext, Subcommand, no_more
from osc_live.commands.tokens import GrammarError, Token

__all__ = ["SUBCOMMAND", "Help"]


@dataclass(frozen=True)
class Help:
    """``help [subcommand]``."""

    topic: str | None = None


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Help:
    """``[subcommand]``."""
    no_more(tokens[1:], "help takes one subcommand")
    if tokens and tokens[0].text not in registry.magic_names():
        raise GrammarError(f"no help for {tokens[0].text!r}", tokens[0].text)
    return Help(tokens[0].text if tokens else None)


def run(cmd: Help, session: Any) -> str:
    """The help text."""
    from osc_live.commands.parsing import usage

    return usage(cmd.topic)


SUBCOMMAND = Subcommand(
    name="help",
    usage="help [subcommand]",
    summary="this text",
    command=Help,
    parse=parse,
    run=run,
    completes="subcommand",
)
