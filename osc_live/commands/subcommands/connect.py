"""``%osc connect [name] [url] [--mode 1.0|1.1]``: add a target and make it the default."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.build import network_error
from osc_live.commands.options import endpoint, name_and_endpoint, split_options
from osc_live.commands.registry import CommandError, ParseContext, Subcommand
from osc_live.commands.tokens import GrammarError, Token
from osc_live.endpoints import SCHEMES, Endpoint, scheme

__all__ = ["SUBCOMMAND", "Connect"]


@dataclass(frozen=True)
class Connect:
    """``connect [name] [url] [--mode]``."""

    name: str | None
    endpoint: Endpoint | None
    mode: str = "1.1"


def _modes() -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for s in SCHEMES.values() for m in s.connect_modes))


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Connect:
    """``[name] [url] [--mode]``; no url: the virtual synth."""
    res = ctx.resolver()
    tokens = [Token(res.substitute(t.text, t.text), t.column) for t in tokens]
    pos, opts = split_options(tokens, {"mode": _modes()})
    name, where = name_and_endpoint(pos, "target", "connect [name] [url]")
    target = endpoint(where.text) if where is not None else None
    kind = scheme(target.scheme if target is not None else "udp")
    if "mode" in opts:
        if target is None or str(opts["mode"]) not in kind.connect_modes:
            users = "/".join(f"{s.name}://" for s in SCHEMES.values() if s.connect_modes)
            raise GrammarError(f"--mode applies to {users} targets only", "--mode")
        return Connect(name, target, str(opts["mode"]))
    return Connect(name, target, kind.default_mode(listening=False) or "1.1")


def run(cmd: Connect, session: Any) -> Any:
    """Connect on the session; returns the :class:`~osc_live.notebook.targets.Target`."""
    url = None if cmd.endpoint is None else cmd.endpoint.url
    if url is None and cmd.name is not None:
        url = _discovered(cmd.name)
    try:
        return session.connect(url, cmd.name, cmd.mode)
    except (OSError, TimeoutError) as exc:
        raise network_error(f"cannot connect to {url or 'the virtual synth'}", exc) from None


def _discovered(name: str) -> str | None:
    """The OSC URL of the service ``%osc discover`` found under ``name`` (None: not found;
    then ``connect NAME`` is the virtual synth under that name, as before)."""
    discovery = sys.modules.get("osc_live.oscquery.discovery")
    found = None if discovery is None else discovery.lookup(name)
    if found is None:
        return None
    if found.osc_url is None:
        raise CommandError(f"{name!r} was discovered, but where its OSC receiver is is unknown")
    return str(found.osc_url)


SUBCOMMAND = Subcommand(
    name="connect",
    usage="connect [name] [udp://host:port | tcp://host:port [--mode 1.0|1.1] | ws://host:port[/path]"
    " | tcp://synth]"
    " | connect NAME (a service %osc discover found)",
    summary="add a target (the last connected is the default); no address: the built-in"
    " virtual synth",
    command=Connect,
    parse=parse,
    run=run,
    options={"mode": ("1.0", "1.1")},
    completes="endpoint",
)
