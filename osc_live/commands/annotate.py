"""``%osc explain``: a packet's bytes, annotated field by field (for teaching).

:func:`annotate` walks the bytes of an encoded OSC message or bundle and returns one
:class:`Field` per part: address, its NUL padding, the type tag string, each argument, bundle
headers and element sizes. :func:`annotate_framed` adds the TCP framing: the OSC 1.0 size prefix,
or the OSC 1.1 SLIP END bytes and escapes. The bytes always come from the real encoder and framer
(``encode_message``, ``OscBundle.from_contents``, ``make_framer``); this module only reads them.
:class:`Explanation` renders as an HTML table in a notebook and as plain text in a terminal.
"""

from __future__ import annotations

import datetime
import decimal
import html
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from osc_live import slip
from osc_live.errors import ParseError
from osc_live.notebook.format import float32_repr
from osc_live.parsing.ntp import ntp_to_unix

__all__ = ["Explanation", "Field", "annotate", "annotate_framed", "explain_packet"]

_NO_DATA_TAGS = {"T": "True", "F": "False", "N": "nil (None)", "I": "infinitum (impulse)"}


@dataclass(frozen=True)
class Field:
    """One annotated part of a packet: where it is, its bytes and what they mean."""

    offset: int
    data: bytes
    part: str
    meaning: str
    depth: int = 0


def _need(data: bytes, offset: int, size: int, what: str) -> None:
    if offset + size > len(data):
        raise ParseError(f"truncated {what} at offset {offset}", offset=offset)


def _padded_string(
    data: bytes, offset: int, base: int, part: str, depth: int, fields: list[Field], what: str
) -> tuple[str, int]:
    end = data.find(b"\x00", offset)
    if end < 0:
        raise ParseError(
            f"{what} at offset {base + offset} has no NUL terminator", offset=base + offset
        )
    text = data[offset:end].decode("utf-8", "replace")
    padded = (end - offset + 4) & ~3
    _need(data, offset, padded, what)
    fields.append(Field(base + offset, data[offset:end], part, text and repr(text), depth))
    pad = padded - (end - offset)
    fields.append(
        Field(
            base + end,
            data[end : offset + padded],
            "padding",
            f"{pad} NUL byte{'s' if pad > 1 else ''}: terminator"
            + (f" + {pad - 1} to a multiple of 4" if pad > 1 else ""),
            depth,
        )
    )
    return text, offset + padded


def _timetag_meaning(value: int) -> str:
    if value == 1:
        return "1 = immediately"
    seconds = ntp_to_unix(value)  # NTP eras: a clear top bit means 2036-2104
    try:
        when = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        shown = when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
    except (OverflowError, OSError, ValueError):
        shown = "out of range"
    return f"NTP seconds {value >> 32} + fraction {value & 0xFFFFFFFF}/2^32 = {shown}"


def _argument(
    data: bytes, offset: int, base: int, tag: str, depth: int, fields: list[Field]
) -> int:
    at = base + offset
    if tag in _NO_DATA_TAGS:
        fields.append(Field(at, b"", f"arg {tag}", f"{_NO_DATA_TAGS[tag]} — no bytes", depth))
        return offset
    if tag in "[]":
        what = "array begins" if tag == "[" else "array ends"
        fields.append(Field(at, b"", f"arg {tag}", f"{what} — no bytes", depth))
        return offset
    if tag in "sS":
        kind = "string" if tag == "s" else "symbol"
        _, offset = _padded_string(data, offset, base, f"arg {tag}", depth, fields, kind)
        fields[-2] = Field(
            fields[-2].offset,
            fields[-2].data,
            f"arg {tag}",
            f"{kind} {fields[-2].meaning or repr('')}",
            depth,
        )
        return offset
    if tag == "b":
        _need(data, offset, 4, "blob size")
        size = int(struct.unpack_from(">i", data, offset)[0])
        fields.append(
            Field(
                at,
                data[offset : offset + 4],
                "arg b",
                f"blob size: int32 big-endian = {size}",
                depth,
            )
        )
        offset += 4
        padded = (size + 3) & ~3
        _need(data, offset, padded, "blob")
        fields.append(
            Field(
                base + offset,
                data[offset : offset + size],
                "blob data",
                f"{size} byte{'s' if size != 1 else ''}",
                depth,
            )
        )
        if padded > size:
            fields.append(
                Field(
                    base + offset + size,
                    data[offset + size : offset + padded],
                    "padding",
                    f"{padded - size} NUL to a multiple of 4",
                    depth,
                )
            )
        return offset + padded
    sizes = {"i": 4, "f": 4, "c": 4, "r": 4, "m": 4, "h": 8, "d": 8, "t": 8}
    if tag not in sizes:
        raise ParseError(f"unknown type tag {tag!r} at offset {at}", offset=at)
    size = sizes[tag]
    _need(data, offset, size, f"argument {tag}")
    chunk = data[offset : offset + size]
    if tag == "i":
        meaning = f"int32 big-endian = {struct.unpack('>i', chunk)[0]}"
    elif tag == "h":
        meaning = f"int64 big-endian = {struct.unpack('>q', chunk)[0]}"
    elif tag == "f":
        value = struct.unpack(">f", chunk)[0]
        shown = float32_repr(value)
        meaning = f"float32 IEEE 754 = {shown}"
        if repr(value) != shown and math.isfinite(value):
            meaning += f" (the nearest float32: exactly {decimal.Decimal(value)})"
    elif tag == "d":
        meaning = f"float64 IEEE 754 = {struct.unpack('>d', chunk)[0]!r}"
    elif tag == "c":
        code = struct.unpack(">I", chunk)[0]
        meaning = f"char: code {code} = {chr(code)!r}" if code < 0x110000 else f"char {code}"
    elif tag == "r":
        meaning = "RGBA color: " + " ".join(f"{k}={v}" for k, v in zip("RGBA", chunk, strict=False))
    elif tag == "m":
        meaning = "MIDI: port {} status 0x{:02x} data {} {}".format(*chunk)
    else:
        meaning = "timetag: " + _timetag_meaning(struct.unpack(">Q", chunk)[0])
    fields.append(Field(at, chunk, f"arg {tag}", meaning, depth))
    return offset + size


def _message(data: bytes, base: int, depth: int, fields: list[Field]) -> None:
    address, offset = _padded_string(data, 0, base, "address", depth, fields, "address")
    fields[-2] = Field(base, fields[-2].data, "address", f"address pattern {address!r}", depth)
    if offset >= len(data):
        fields.append(
            Field(
                base + offset,
                b"",
                "type tags",
                "none (an old-style message without a type tag string)",
                depth,
            )
        )
        return
    if data[offset : offset + 1] != b",":
        raise ParseError(
            f"type tag string at offset {base + offset} does not start with ','",
            offset=base + offset,
        )
    tags, offset = _padded_string(data, offset, base, "type tags", depth, fields, "type tags")
    count = len(tags) - 1
    fields[-2] = Field(
        fields[-2].offset,
        fields[-2].data,
        "type tags",
        f"{tags!r}: ',' then {count} tag{'s' if count != 1 else ''}",
        depth,
    )
    for tag in tags[1:]:
        offset = _argument(data, offset, base, tag, depth, fields)
    if offset != len(data):
        fields.append(
            Field(base + offset, data[offset:], "extra", "bytes after the last argument", depth)
        )


def _bundle(data: bytes, base: int, depth: int, fields: list[Field]) -> None:
    _need(data, 0, 16, "bundle header")
    fields.append(
        Field(base, data[:8], "bundle", "'#bundle' + NUL: this packet is a bundle", depth)
    )
    (timetag,) = struct.unpack_from(">Q", data, 8)
    fields.append(Field(base + 8, data[8:16], "timetag", _timetag_meaning(timetag), depth))
    offset, index = 16, 0
    while offset < len(data):
        _need(data, offset, 4, "element size")
        (size,) = struct.unpack_from(">i", data, offset)
        fields.append(
            Field(
                base + offset,
                data[offset : offset + 4],
                f"element {index}",
                f"size: int32 big-endian = {size} bytes follow",
                depth,
            )
        )
        offset += 4
        if size < 0:
            raise ParseError(
                f"negative element size at offset {base + offset - 4}", offset=base + offset - 4
            )
        _need(data, offset, size, "bundle element")
        _packet(data[offset : offset + size], base + offset, depth + 1, fields)
        offset += size
        index += 1


def _packet(data: bytes, base: int, depth: int, fields: list[Field]) -> None:
    if data.startswith(b"#bundle\x00"):
        _bundle(data, base, depth, fields)
    elif data.startswith(b"/"):
        _message(data, base, depth, fields)
    else:
        raise ParseError(
            f"packet at offset {base} is neither a message ('/') nor a bundle", offset=base
        )


def annotate(packet: bytes) -> list[Field]:
    """Every part of an encoded message or bundle, in byte order (offsets from 0)."""
    fields: list[Field] = []
    _packet(bytes(packet), 0, 0, fields)
    return fields


def _slip_escape(data: bytes) -> bytes:
    """``data`` with SLIP's escapes, as :func:`osc_live.slip.encode` writes them (no ENDs)."""
    return slip.encode(data)[1:-1] if data else b""


def annotate_framed(packet: bytes, wire: bytes, mode: str) -> list[Field]:
    """Fields of ``wire`` = ``packet`` framed for TCP in ``mode`` "1.0" or "1.1".

    ``wire`` must come from the real framer; the annotation is checked against it.
    """
    inner = annotate(packet)
    if mode == "1.0":
        prefix = wire[:4]
        fields = [
            Field(
                0,
                prefix,
                "size prefix",
                f"OSC 1.0 over TCP: int32 big-endian = {len(packet)} bytes follow",
            )
        ]
        fields += [Field(f.offset + 4, f.data, f.part, f.meaning, f.depth) for f in inner]
        rebuilt = prefix + packet
    else:
        fields = []
        offset = 0
        if wire[:1] == slip.END:
            fields.append(
                Field(0, wire[:1], "SLIP END", "OSC 1.1 over TCP: 0xC0 marks a frame boundary")
            )
            offset = 1
        for f in inner:
            escaped = _slip_escape(f.data)
            meaning = f.meaning
            if escaped != f.data:
                meaning += " — SLIP escaped: C0 → DB DC, DB → DB DD"
            fields.append(Field(offset, escaped, f.part, meaning, f.depth))
            offset += len(escaped)
        fields.append(Field(offset, slip.END, "SLIP END", "0xC0 ends the frame"))
        rebuilt = b"".join(f.data for f in fields)
    if rebuilt != wire:
        raise ParseError(f"the {mode} framer produced bytes this annotation does not explain")
    return fields


def _hex(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data)


def _ascii(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 else "·" for b in data)


class Explanation:
    """Annotated bytes: ``_repr_html_`` for notebooks, ``str()``/``repr()`` for terminals."""

    def __init__(self, title: str, wire: bytes, fields: Sequence[Field]) -> None:
        self.title = title
        self.wire = wire
        self.fields = list(fields)

    def rows(self, width: int = 8) -> list[tuple[str, str, str, str, str]]:
        """(offset, hex, ascii, part, meaning), long fields wrapped at ``width`` bytes."""
        out = []
        for f in self.fields:
            indent = "  " * f.depth
            chunks = [f.data[i : i + width] for i in range(0, len(f.data), width)] or [b""]
            for k, chunk in enumerate(chunks):
                first = k == 0
                out.append(
                    (
                        str(f.offset + k * width),
                        _hex(chunk),
                        _ascii(chunk),
                        indent + f.part if first else "",
                        f.meaning if first else "",
                    )
                )
        return out

    def __str__(self) -> str:
        rows = self.rows()
        head = ("offset", "bytes", "ascii", "part", "meaning")
        widths = [max(len(r[i]) for r in [*rows, head]) for i in range(4)]
        header = "  ".join(h.ljust(w) for h, w in zip(head, [*widths, 0], strict=False))
        lines = [self.title, header.rstrip()]
        for r in rows:
            lines.append(
                f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  "
                f"{r[3]:<{widths[3]}}  {r[4]}".rstrip()
            )
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        body = "".join(
            "<tr>"
            + "".join(
                f"<td style='{style}'>{esc(cell)}</td>"
                for cell, style in zip(
                    r,
                    (
                        "text-align:right",
                        "font-family:monospace",
                        "font-family:monospace",
                        "text-align:left;white-space:pre",
                        "text-align:left",
                    ),
                    strict=False,
                )
            )
            + "</tr>"
            for r in self.rows()
        )
        head = "".join(f"<th>{h}</th>" for h in ("offset", "bytes", "ascii", "part", "meaning"))
        return (
            f"<div class='osc-live-explain'><b>{esc(self.title)}</b>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )


def explain_packet(packet: bytes, tcp: str | None = None, title: str | None = None) -> Explanation:
    """Annotate ``packet``, framed for TCP in mode ``tcp`` ("1.0"/"1.1") when given."""
    if tcp is None:
        fields = annotate(packet)
        wire = bytes(packet)
        how = "UDP datagram"
    else:
        from osc_live.framing import make_framer

        wire = make_framer(tcp).frame(bytes(packet))
        fields = annotate_framed(bytes(packet), wire, tcp)
        how = f"TCP, OSC {tcp} framing ({'size prefix' if tcp == '1.0' else 'SLIP'})"
    return Explanation(title or f"{len(wire)} bytes — {how}", wire, fields)
