"""``osc-live synth``: the virtual synth in a terminal, until Ctrl-C (``%osc connect`` starts
one in a notebook)."""

from __future__ import annotations

import time
from typing import Any

from osc_live.commands.cli_support import float_option, hostport, print_message, take_options
from osc_live.commands.registry import CliIO, CliUsage, Subcommand
from osc_live.osc_message import OscMessage

__all__ = ["SUBCOMMAND"]


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live synth [--port PORT] [--host HOST] [--oscquery PORT [--name NAME] [--lan]]``."""
    rest, opts = take_options(
        words, {"port": True, "host": True, "oscquery": True, "name": True, "lan": False}
    )
    if rest:
        raise CliUsage(f"unexpected {rest[0]!r}")
    port = float_option(opts, "port", 0) or 0
    if port != int(port) or port > 65535:
        raise CliUsage(f"bad value {opts['port']!r} for --port")
    oscquery = float_option(opts, "oscquery", None)
    if oscquery is not None and (oscquery != int(oscquery) or oscquery > 65535):
        raise CliUsage(f"bad value {opts['oscquery']!r} for --oscquery")
    if oscquery is None and ("name" in opts or "lan" in opts):
        raise CliUsage("--name and --lan go with --oscquery PORT")
    from osc_live.notebook.synth import VirtualSynth

    synth = VirtualSynth(str(opts.get("host", "127.0.0.1")), int(port), int(port))
    synth.on_message = lambda item: print_message(
        io.out,
        OscMessage.from_parts(item.address, list(item.args), item.type_tags),
        item.source,
        False,
    )
    synth.start()
    io.err.write(
        f"virtual synth on udp://{hostport(*synth.udp_address)}"
        f" and tcp://{hostport(*synth.tcp_address)}\n"
    )
    io.err.flush()
    service = None
    try:
        if oscquery is not None:
            service = _serve_oscquery(synth, int(oscquery), opts, io)
        while synth.running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if service is not None:
            service.close()
        synth.close()
    return 0


def _serve_oscquery(synth: Any, port: int, opts: dict[str, str | bool], io: CliIO) -> Any:
    """Serve the synth's namespace over OSCQuery; print ``oscquery URL`` once it answers,
    then announce it over zeroconf (loopback unless --lan)."""
    from osc_live.oscquery.synth_ns import SynthService

    try:
        service = SynthService(
            synth, port, name=str(opts["name"]) if "name" in opts else None, lan="lan" in opts
        )
    except ImportError as exc:
        raise CliUsage(str(exc)) from None
    io.out.write(f"oscquery {service.server.url}\n")
    io.out.flush()
    try:
        name = service.announce()
    except (OSError, TimeoutError) as exc:
        io.err.write(f"osc-live: not announced over zeroconf: {exc}\n")
    else:
        io.err.write(f"announced over zeroconf as {name!r}\n")
    io.err.flush()
    return service


SUBCOMMAND = Subcommand(
    name="synth",
    summary="the virtual synth, UDP and TCP, until Ctrl-C",
    cli=cli,
    cli_usage=(
        "synth [--port PORT] [--host HOST]   (the virtual synth, UDP and TCP, until Ctrl-C)",
        "synth --oscquery PORT [--name NAME] [--lan]   (and its namespace over OSCQuery;"
        " PORT 0: a free one)",
    ),
)
