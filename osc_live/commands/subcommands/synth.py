"""``osc-live synth``: the virtual synth in a terminal, until Ctrl-C (``%osc connect`` starts
one in a notebook)."""

from __future__ import annotations

import time

from osc_live.commands.cli_support import float_option, hostport, print_message, take_options
from osc_live.commands.registry import CliIO, CliUsage, Subcommand
from osc_live.osc_message import OscMessage

__all__ = ["SUBCOMMAND"]


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live synth [--port PORT] [--host HOST]``."""
    rest, opts = take_options(words, {"port": True, "host": True})
    if rest:
        raise CliUsage(f"unexpected {rest[0]!r}")
    port = float_option(opts, "port", 0) or 0
    if port != int(port) or port > 65535:
        raise CliUsage(f"bad value {opts['port']!r} for --port")
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
    try:
        while synth.running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        synth.close()
    return 0


SUBCOMMAND = Subcommand(
    name="synth",
    summary="the virtual synth, UDP and TCP, until Ctrl-C",
    cli=cli,
    cli_usage=(
        "synth [--port PORT] [--host HOST]   (the virtual synth, UDP and TCP, until Ctrl-C)",
    ),
)
