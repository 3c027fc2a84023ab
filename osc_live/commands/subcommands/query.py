"""``%osc query URL|NAME [/path]`` and ``osc-live query URL [/path]``: a remote OSCQuery
namespace as a tree (types, values, ranges, access, descriptions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
from osc_live.commands.tokens import GrammarError, Token

__all__ = ["SUBCOMMAND", "Query", "url_and_path"]

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Query:
    """``query URL|NAME [/path] [--timeout S]``."""

    url: str
    path: str | None = None
    timeout: float = DEFAULT_TIMEOUT


def url_and_path(pos: Sequence[Token], ctx: ParseContext, what: str) -> tuple[str, str | None]:
    """``URL|NAME [/path]`` (``$name`` / ``{{expr}}`` filled in the notebook)."""
    if not pos:
        raise GrammarError(f"{what} needs an OSCQuery URL (http://host:port) or a discovered name")
    no_more(pos[2:], f"{what} takes a URL and one /path")
    res = ctx.resolver()
    url = res.substitute(pos[0].text, pos[0].text)
    path = res.substitute(pos[1].text, pos[1].text) if len(pos) > 1 else None
    if path is not None and not path.startswith("/"):
        raise GrammarError(f"bad path {path!r}: an OSC path starts with '/'", path)
    return url, path


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Query:
    """``URL|NAME [/path] [--timeout S]``."""
    pos, opts = split_options(tokens, {"timeout": ()})
    url, path = url_and_path(pos, ctx, "query")
    return Query(url, path, seconds_option(opts, "timeout", DEFAULT_TIMEOUT))


def read(url: str, path: str | None, timeout: float) -> Any:
    """The remote node (a discovered name works as the URL); CommandError on failure."""
    from osc_live.oscquery.client import OscQueryError, query
    from osc_live.oscquery.discovery import remember_paths, resolve_url

    try:
        where = resolve_url(url)
        root = query(where, path, timeout=timeout)
    except OscQueryError as exc:
        raise CommandError(str(exc)) from None
    if path in (None, "/"):
        remember_paths(where, root=root)
    return root


def run(cmd: Query, session: Any) -> str:
    """The tree as text."""
    from osc_live.oscquery.tree import format_tree

    return format_tree(read(cmd.url, cmd.path, cmd.timeout))


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live query URL [/path] [--timeout S] [--json]``."""
    rest, opts = take_options(words, {"timeout": True, "json": False}, anywhere=True)
    if not rest or len(rest) > 2:
        raise CliUsage("query needs a URL (http://host:port) and at most one /path")
    if len(rest) == 2 and not rest[1].startswith("/"):
        raise CliUsage(f"bad path {rest[1]!r}: an OSC path starts with '/'")
    from osc_live.oscquery.tree import format_tree

    timeout = seconds_option(opts, "timeout", DEFAULT_TIMEOUT)
    root = read(rest[0], rest[1] if len(rest) > 1 else None, timeout)
    return print_result(io, bool(opts.get("json")), [root.to_json()], lambda: format_tree(root))


SUBCOMMAND = Subcommand(
    name="query",
    usage="query URL|NAME [/path] [--timeout S]",
    summary="print a remote OSCQuery namespace as a tree (types, values, ranges, access)",
    command=Query,
    parse=parse,
    run=run,
    cli=cli,
    cli_usage=("query URL [/path] [--timeout S] [--json]   (a remote OSCQuery namespace)",),
    options={"timeout": ()},
)
