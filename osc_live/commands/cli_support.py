"""Helpers of the ``osc-live`` faces of the subcommands: options and printed lines."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from osc_live.commands.registry import CliUsage
from osc_live.commands.tokens import GrammarError
from osc_live.endpoints import Endpoint, EndpointError, parse_endpoint
from osc_live.errors import OscError
from osc_live.notebook.format import format_args
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage

__all__ = [
    "cli_endpoint",
    "float_option",
    "hostport",
    "messages_of",
    "print_message",
    "print_packet",
    "print_result",
    "take_options",
]


def hostport(host: Any, port: Any) -> str:
    """``host:port``, IPv6 hosts in brackets (``[::1]:9000``)."""
    text = str(host)
    return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"


def take_options(
    words: list[str], spec: dict[str, bool], *, anywhere: bool = False
) -> tuple[list[str], dict[str, str | bool]]:
    """Pull ``--name [value]`` options (spec: takes a value?) from before the /address (the
    message's own words follow it), or, ``anywhere``, from every word (a command whose words
    are files, URLs and one /path: options may come last)."""
    opts: dict[str, str | bool] = {}
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if not anywhere and (word.startswith("/") or word == "-"):
            rest.extend(words[i:])
            break
        if word.startswith("--"):
            key, eq, inline = word[2:].partition("=")
            if key not in spec:
                raise CliUsage(f"unknown option {word!r}")
            if key in opts:
                raise CliUsage(f"option --{key} given twice")
            if spec[key]:
                if not eq:
                    i += 1
                    if i >= len(words):
                        raise CliUsage(f"option --{key} needs a value")
                    inline = words[i]
                opts[key] = inline
            elif eq:
                raise CliUsage(f"option --{key} takes no value")
            else:
                opts[key] = True
        else:
            rest.append(word)
        i += 1
    return rest, opts


def float_option(opts: dict[str, str | bool], key: str, default: float | None) -> float | None:
    """A non-negative number option."""
    raw = opts.get(key)
    if raw is None:
        return default
    try:
        value = float(str(raw))
    except ValueError:
        raise CliUsage(f"bad value {raw!r} for --{key}") from None
    if value < 0 or value != value:
        raise CliUsage(f"bad value {raw!r} for --{key}")
    return value


def print_result(io: Any, as_json: bool, records: Iterable[Any], text: Callable[[], str]) -> int:
    """``--json``: each record as one JSON line; else ``text()``. Returns exit code 0."""
    if as_json:
        for record in records:
            io.out.write(json.dumps(record, default=str) + "\n")
    else:
        io.out.write(text() + "\n")
    return 0


def cli_endpoint(text: str, *, listening: bool = False) -> Endpoint:
    """An endpoint word of the command line (CliUsage when malformed)."""
    try:
        return parse_endpoint(text, listening=listening)
    except (EndpointError, GrammarError) as exc:
        raise CliUsage(str(exc)) from None


def print_message(out: TextIO, message: OscMessage, peer: str, as_json: bool) -> None:
    """One line per message: ``12:00:00.123 peer /address ,tags args`` or a JSON object."""
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
        line += format_args(message.params, message.type_tags)
    out.write(line.rstrip() + "\n")
    out.flush()


def messages_of(content: OscMessage | OscBundle) -> list[OscMessage]:
    """The messages of a packet, bundles flattened."""
    if isinstance(content, OscMessage):
        return [content]
    return [m for item in content for m in messages_of(item)]


def print_packet(out: TextIO, data: bytes, peer: str, as_json: bool = False) -> int:
    """Print every message of a packet; returns how many."""
    from osc_live.osc_packet import parse_packet

    try:
        packet = parse_packet(data)
    except OscError as exc:
        out.write(f"{peer} malformed packet: {exc}\n")
        return 0
    messages = messages_of(packet)
    for message in messages:
        print_message(out, message, peer, as_json)
    return len(messages)
