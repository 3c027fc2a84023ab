"""``%osc advertise [name] [--http PORT] [--lan] [--synth]``: serve the kernel's namespace over
OSCQuery and announce it over zeroconf (see :mod:`osc_live.oscquery.kernel`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.build import network_error
from osc_live.commands.options import name, split_options
from osc_live.commands.registry import CommandError, ParseContext, Subcommand, no_more
from osc_live.commands.tokens import GrammarError, Token

__all__ = ["SUBCOMMAND", "Advertise", "port_option"]


@dataclass(frozen=True)
class Advertise:
    """``advertise [name] [--http PORT] [--lan] [--synth]``."""

    name: str | None = None
    http: int = 0
    lan: bool = False
    synth: bool = False


def port_option(opts: dict[str, str | bool], key: str) -> int:
    """``--key PORT`` as a port number 0..65535 (0: a free one); 0 when absent."""
    raw = str(opts.get(key, "0"))
    if not raw.isdigit() or int(raw) > 65535:
        raise GrammarError(f"bad value {raw!r} for --{key}: expected a port 0..65535", raw)
    return int(raw)


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Advertise:
    """``[name] [--http PORT] [--lan] [--synth]`` (``$name`` / ``{{expr}}`` filled in)."""
    res = ctx.resolver()
    tokens = [Token(res.substitute(t.text, t.text), t.column) for t in tokens]
    pos, opts = split_options(tokens, {"http": (), "lan": None, "synth": None})
    no_more(pos[1:], "advertise takes one name")
    return Advertise(
        name(pos[0], "service name") if pos else None,
        port_option(opts, "http"),
        bool(opts.get("lan")),
        bool(opts.get("synth")),
    )


def run(cmd: Advertise, session: Any) -> str:
    """Serve and announce; returns the line ``%osc advertise`` prints."""
    from osc_live.oscquery.kernel import advertise

    try:
        service = advertise(
            cmd.name, http_port=cmd.http, lan=cmd.lan, synth=cmd.synth, session=session
        )
    except ImportError as exc:
        raise CommandError(str(exc)) from None
    except (OSError, TimeoutError) as exc:
        raise network_error("cannot advertise", exc) from None
    return f"advertising {service.status()}"


SUBCOMMAND = Subcommand(
    name="advertise",
    usage="advertise [name] [--http PORT] [--lan] [--synth]",
    summary="serve the kernel's namespace (or the virtual synth's) over OSCQuery, announced"
    " over zeroconf; loopback unless --lan; %osc close NAME stops it",
    command=Advertise,
    parse=parse,
    run=run,
    options={"http": (), "lan": None, "synth": None},
)
