"""``%osc panel URL|NAME [/path] [--no-listen]``: bound controls for a remote OSCQuery
namespace (see :mod:`osc_live.oscquery.panel`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.build import network_error
from osc_live.commands.options import seconds_option, split_options
from osc_live.commands.registry import CommandError, ParseContext, Subcommand
from osc_live.commands.subcommands.query import url_and_path
from osc_live.commands.tokens import Token

__all__ = ["SUBCOMMAND", "Panel"]


@dataclass(frozen=True)
class Panel:
    """``panel URL|NAME [/path] [--no-listen] [--timeout S]``."""

    url: str
    path: str | None = None
    listen: bool = True
    timeout: float = 5.0


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Panel:
    """``URL|NAME [/path] [--no-listen] [--timeout S]``."""
    pos, opts = split_options(tokens, {"no-listen": None, "timeout": ()})
    url, path = url_and_path(pos, ctx, "panel")
    return Panel(url, path, not opts.get("no-listen"), seconds_option(opts, "timeout", 5.0))


def run(cmd: Panel, session: Any) -> Any:
    """The panel widget (a ``VBox``; ``box.remote`` holds the follower and the target)."""
    from osc_live.oscquery.client import OscQueryError
    from osc_live.oscquery.discovery import resolve_url
    from osc_live.oscquery.panel import remote_panel

    try:
        url = resolve_url(cmd.url)
        return remote_panel(url, cmd.path, listen=cmd.listen, timeout=cmd.timeout, session=session)
    except OscQueryError as exc:
        raise CommandError(str(exc)) from None
    except ImportError as exc:
        raise CommandError(str(exc)) from None
    except (OSError, TimeoutError) as exc:
        raise network_error(f"cannot reach the OSC server of {cmd.url}", exc) from None


SUBCOMMAND = Subcommand(
    name="panel",
    usage="panel URL|NAME [/path] [--no-listen] [--timeout S]",
    summary="bound controls for a remote OSCQuery namespace: sliders, toggles, buttons, text;"
    " they follow the remote through LISTEN",
    command=Panel,
    parse=parse,
    run=run,
    options={"no-listen": None, "timeout": ()},
)
