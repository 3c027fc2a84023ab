"""``%osc discover [--timeout S] [--lan]`` and ``osc-live discover``: the OSC and OSCQuery
services announced over zeroconf, remembered by name (``%osc connect NAME``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from osc_live.commands.cli_support import print_result, take_options
from osc_live.commands.options import seconds_option, split_options
from osc_live.commands.registry import (
    CliIO,
    CliUsage,
    CommandError,
    ParseContext,
    Subcommand,
    no_more,
)
from osc_live.commands.tokens import Token

__all__ = ["SUBCOMMAND", "Discover"]

DEFAULT_TIMEOUT = 2.0


@dataclass(frozen=True)
class Discover:
    """``discover [--timeout S] [--lan]``."""

    timeout: float = DEFAULT_TIMEOUT
    lan: bool = False


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Discover:
    """``[--timeout S] [--lan]``."""
    pos, opts = split_options(tokens, {"timeout": (), "lan": None})
    no_more(pos, "discover takes only --timeout S and --lan")
    return Discover(seconds_option(opts, "timeout", DEFAULT_TIMEOUT), bool(opts.get("lan")))


def _found(timeout: float, lan: bool) -> Any:
    from osc_live.oscquery.discovery import discover

    try:
        return discover(timeout, lan=lan)
    except ImportError as exc:
        raise CommandError(str(exc)) from None


def run(cmd: Discover, session: Any) -> str:
    """Browse; returns the table. Found names complete ``%osc send`` addresses afterwards."""
    from osc_live.oscquery.discovery import completion_paths, format_table

    found = _found(cmd.timeout, cmd.lan)
    sources = getattr(session, "address_sources", None)
    if sources is not None and completion_paths not in sources:
        sources.append(completion_paths)
    return format_table(found)


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live discover [--timeout S] [--lan] [--json]``."""
    rest, opts = take_options(words, {"timeout": True, "lan": False, "json": False}, anywhere=True)
    if rest:
        raise CliUsage(f"unexpected {rest[0]!r}")
    from osc_live.oscquery.discovery import format_table

    found = _found(seconds_option(opts, "timeout", DEFAULT_TIMEOUT), bool(opts.get("lan")))
    records = ({**asdict(item), "osc_url": item.osc_url} for item in found)
    return print_result(io, bool(opts.get("json")), records, lambda: format_table(found))


SUBCOMMAND = Subcommand(
    name="discover",
    usage="discover [--timeout S] [--lan]",
    summary="list OSC and OSCQuery services announced over zeroconf (name, host, port,"
    " transport, OSCQuery URL); %osc connect NAME then connects one",
    command=Discover,
    parse=parse,
    run=run,
    cli=cli,
    cli_usage=("discover [--timeout S] [--lan] [--json]   (zeroconf: OSC and OSCQuery services)",),
    options={"timeout": (), "lan": None},
)
