"""``osc-live``: send, listen, explain and a virtual synth from a terminal.

The words after the subcommand go through the same parser as ``%osc`` (one shell word per
token; a word that is not a Python literal is a string, since the shell already removed the
quotes). Exit codes: 0 success, 1 network error or nothing received in time, 2 usage error.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from osc_live.errors import OscError
from osc_live.magics import commands, grammar
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage

__all__ = ["main"]

USAGE = """\
usage: osc-live send [--mode 1.0|1.1] [--wait SECONDS] URL /address [arg ...]
       osc-live send [--mode 1.0|1.1] [--bundle | --at +SECONDS] URL -   (messages on stdin)
       osc-live listen [URL | PORT] [--mode 1.0|1.1|auto] [--count N] [--timeout SECONDS] [--json]
                                           (alias: osc-live dump)
       osc-live explain [--bundle] [--at +SECONDS] [--tcp 1.0|1.1] /address [arg ...]
       osc-live synth [--port PORT] [--host HOST]   (the virtual synth, UDP and TCP, until Ctrl-C)
URL: udp://host:port, tcp://host:port, host:port or PORT (UDP on 127.0.0.1);
     IPv6 hosts in brackets: udp://[::1]:9000.
"""


class _Usage(Exception):
    """A command-line mistake (exit code 2)."""


def _hostport(host: Any, port: Any) -> str:
    """``host:port``, IPv6 hosts in brackets (``[::1]:9000``)."""
    text = str(host)
    return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"


def _tokens(words: Sequence[str]) -> list[grammar.Token]:
    return [grammar.Token(word, i) for i, word in enumerate(words)]


def _take_options(
    words: list[str], spec: dict[str, bool]
) -> tuple[list[str], dict[str, str | bool]]:
    """Pull ``--name [value]`` options (spec: takes a value?) from before the /address."""
    opts: dict[str, str | bool] = {}
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("/") or word == "-":
            rest.extend(words[i:])
            break
        if word.startswith("--"):
            name, _, inline = word[2:].partition("=")
            if name not in spec:
                raise _Usage(f"unknown option {word!r}")
            if spec[name]:
                if not inline:
                    i += 1
                    if i >= len(words):
                        raise _Usage(f"option --{name} needs a value")
                    inline = words[i]
                opts[name] = inline
            else:
                opts[name] = True
        else:
            rest.append(word)
        i += 1
    return rest, opts


def _float(opts: dict[str, str | bool], name: str, default: float | None) -> float | None:
    raw = opts.get(name)
    if raw is None:
        return default
    try:
        value = float(str(raw))
    except ValueError:
        raise _Usage(f"bad value {raw!r} for --{name}") from None
    if value < 0:
        raise _Usage(f"bad value {raw!r} for --{name}")
    return value


def _format_args(args: Sequence[Any]) -> str:
    return " ".join(repr(a) if isinstance(a, (str, bytes)) else str(a) for a in args)


def _print_message(out: TextIO, message: OscMessage, peer: str, as_json: bool) -> None:
    if as_json:
        args = [a.hex() if isinstance(a, bytes) else a for a in message.params]
        line = json.dumps(
            {
                "time": time.time(),
                "peer": peer,
                "address": message.address,
                "tags": message.type_tags,
                "args": args,
            },
            default=repr,
        )
    else:
        stamp = datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]
        line = f"{stamp} {peer} {message.address} ,{message.type_tags} "
        line += _format_args(message.params)
    out.write(line.rstrip() + "\n")
    out.flush()


def _messages(content: OscMessage | OscBundle) -> list[OscMessage]:
    if isinstance(content, OscMessage):
        return [content]
    return [m for item in content for m in _messages(item)]


# -- send ---------------------------------------------------------------------------------------


def _send(words: list[str], out: TextIO) -> int:
    rest, opts = _take_options(words, {"mode": True, "wait": True, "bundle": False, "at": True})
    if not rest:
        raise _Usage("send needs a URL and an /address")
    try:
        endpoint = grammar.parse_endpoint(rest[0])
    except grammar.GrammarError as exc:
        raise _Usage(str(exc)) from None
    if endpoint.is_synth:
        raise _Usage("the virtual synth lives in a notebook; run 'osc-live synth' and use its port")
    mode = str(opts.get("mode", "1.1"))
    if mode not in ("1.0", "1.1"):
        raise _Usage(f"bad value {mode!r} for --mode: expected 1.0|1.1")
    wait = _float(opts, "wait", 0.0) or 0.0
    body = rest[1:]
    content: OscMessage | OscBundle
    try:
        if body == ["-"]:
            header = ("--bundle" if opts.get("bundle") else "") + (
                f" --at {opts['at']}" if "at" in opts else ""
            )
            cell = grammar.parse_cell(header, sys.stdin.read(), {}, float_tag="f")
            if cell.header.bundle:
                content = commands.build_bundle(cell.messages, cell.header.at)
                contents: list[OscMessage | OscBundle] = [content]
            else:
                contents = [commands.build_message(m) for m in cell.messages]
        else:
            cmd = grammar.parse_tokens(_tokens(["send", *body]), {}, lenient=True)
            assert isinstance(cmd, grammar.Send)
            contents = [commands.build_message(cmd.message)]
    except (grammar.GrammarError, commands.CommandError) as exc:
        raise _Usage(str(exc)) from None
    if endpoint.scheme == "udp":
        from osc_live.udp_client import UDPClient

        with UDPClient(endpoint.host, endpoint.port) as client:
            for item in contents:
                client.send(item)
            if wait:
                deadline = time.monotonic() + wait
                while (left := deadline - time.monotonic()) > 0:
                    data = client.receive(timeout=left)
                    if data:
                        _print_packet(out, data, endpoint.url)
    else:
        from osc_live.tcp_client import TCPClient

        with TCPClient(endpoint.host, endpoint.port, mode=mode) as tcp:
            for item in contents:
                tcp.send(item)
            if wait:
                for reply in tcp.receive(timeout=wait):
                    for message in _messages(reply):
                        _print_message(out, message, endpoint.url, False)
    return 0


def _print_packet(out: TextIO, data: bytes, peer: str, as_json: bool = False) -> int:
    """Print every message of a packet; returns how many."""
    from osc_live.osc_packet import parse_packet

    try:
        packet = parse_packet(data)
    except OscError as exc:
        out.write(f"{peer} malformed packet: {exc}\n")
        return 0
    messages = _messages(packet)
    for message in messages:
        _print_message(out, message, peer, as_json)
    return len(messages)


# -- listen -------------------------------------------------------------------------------------


def _listen(words: list[str], out: TextIO) -> int:
    rest, opts = _take_options(words, {"mode": True, "count": True, "timeout": True, "json": False})
    count_raw = opts.get("count")
    count = None
    if count_raw is not None:
        if not str(count_raw).isdigit() or int(str(count_raw)) < 1:
            raise _Usage(f"bad value {count_raw!r} for --count")
        count = int(str(count_raw))
    timeout = _float(opts, "timeout", None)
    cli_words = ["listen", *rest] + (["--mode", str(opts["mode"])] if "mode" in opts else [])
    try:
        cmd = grammar.parse_tokens(_tokens(cli_words), {}, lenient=True)
    except grammar.GrammarError as exc:
        raise _Usage(str(exc)) from None
    assert isinstance(cmd, grammar.Listen)
    try:
        got = asyncio.run(_serve(cmd, out, count, timeout, bool(opts.get("json"))))
    except KeyboardInterrupt:
        return 0
    return 0 if count is None or got >= count else 1


async def _serve(
    cmd: grammar.Listen, out: TextIO, count: int | None, timeout: float | None, as_json: bool
) -> int:
    from osc_live.dispatcher import Dispatcher

    done = asyncio.Event()
    seen = 0

    def show(data: bytes, client_address: Any) -> None:
        nonlocal seen
        peer = _hostport(client_address[0], client_address[1]) if client_address else "?"
        seen += _print_packet(out, data, peer, as_json)
        if count is not None and seen >= count:
            done.set()

    class Printer(Dispatcher):
        def call_handlers_for_packet(
            self, data: bytes, client_address: Any, *args: Any, **kwargs: Any
        ) -> list[Any]:
            show(data, client_address)
            return []

        async def async_call_handlers_for_packet(
            self, data: bytes, client_address: Any, *args: Any, **kwargs: Any
        ) -> list[Any]:
            show(data, client_address)
            return []

    dispatcher = Printer()
    host, port = cmd.endpoint.host, cmd.endpoint.port
    stop: Any
    if cmd.endpoint.scheme == "udp":
        from osc_live.osc_server import AsyncIOOSCUDPServer

        server = AsyncIOOSCUDPServer((host, port), dispatcher)
        await server.create_serve_endpoint()
        bound = server.server_address
        stop = server.aclose
    else:
        from osc_live.osc_tcp_server import AsyncOSCTCPServer

        tcp = AsyncOSCTCPServer(host, port, dispatcher, mode=cmd.mode)
        await tcp.listen()
        bound = tcp.server_address
        stop = tcp.stop
    sys.stderr.write(f"listening on {cmd.endpoint.scheme}://{_hostport(bound[0], bound[1])}\n")
    sys.stderr.flush()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, done.set)
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)
    finally:
        await stop()
    return seen


# -- explain / synth ------------------------------------------------------------------------------


def _explain(words: list[str], out: TextIO) -> int:
    try:
        cmd = grammar.parse_tokens(_tokens(["explain", *words]), {}, lenient=True)
        assert isinstance(cmd, grammar.Explain)
        out.write(str(commands.explain(cmd)) + "\n")
    except (grammar.GrammarError, commands.CommandError) as exc:
        raise _Usage(str(exc)) from None
    return 0


def _synth(words: list[str], out: TextIO) -> int:
    rest, opts = _take_options(words, {"port": True, "host": True})
    if rest:
        raise _Usage(f"unexpected {rest[0]!r}")
    port = int(_float(opts, "port", 0) or 0)
    from osc_live.synth import VirtualSynth

    synth = VirtualSynth(str(opts.get("host", "127.0.0.1")), port, port)
    synth.on_message = lambda item: _print_message(
        out, OscMessage.from_parts(item.address, list(item.args)), item.source, False
    )
    synth.start()
    sys.stderr.write(
        f"virtual synth on udp://{_hostport(*synth.udp_address)}"
        f" and tcp://{_hostport(*synth.tcp_address)}\n"
    )
    sys.stderr.flush()
    try:
        while synth.running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        synth.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``osc-live`` console script; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    out = sys.stdout
    if not words or words[0] in ("help", "-h", "--help"):
        out.write(USAGE)
        return 0 if words else 2
    sub, rest = words[0], words[1:]
    handlers = {
        "send": _send,
        "listen": _listen,
        "dump": _listen,  # the name liblo's oscdump made familiar
        "explain": _explain,
        "synth": _synth,
    }
    try:
        if sub not in handlers:
            raise _Usage(f"unknown command {sub!r}")
        return handlers[sub](rest, out)
    except _Usage as exc:
        sys.stderr.write(f"osc-live: error: {exc}\n")
        return 2
    except (OSError, TimeoutError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"osc-live: network error: {text}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
