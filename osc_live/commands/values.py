"""Arguments of a message: Python literals, tagged values, ``$name`` and ``{{expr}}``.

:func:`parse_message` turns ``/address arg ...`` tokens into a :class:`MessageSpec`. Where a
value comes from the user's namespace, :class:`Resolver` looks it up; without a namespace
(the ``osc-live`` command) nothing is ever evaluated: ``{{expr}}`` is an error.
"""

from __future__ import annotations

import ast
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.tokens import GrammarError, Token
from osc_live.errors import BuildError, NtpError
from osc_live.osc_message import infer_tag
from osc_live.parsing.ntp import unix_to_ntp
from osc_live.parsing.osc_types import TimeTag

__all__ = [
    "MessageSpec",
    "Resolver",
    "address",
    "args_tags",
    "parse_message",
    "plain",
    "relative_time",
    "tag_of",
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class MessageSpec:
    """An OSC message described by the user: address, Python values and full type tags."""

    address: str
    args: tuple[Any, ...]
    type_tags: str
    explicit: bool = False

    @property
    def encode_tags(self) -> str | None:
        """The type tags to pass to ``encode_message`` (None when inference gives the same)."""
        return self.type_tags if self.explicit else None


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TAGGED = re.compile(r"([ifdhsSctbmr]):(.*)\Z", re.S)
_BARE_TAGS = {"T": True, "F": False, "N": None, "I": None}
_EXPR = re.compile(r"\{\{(.*?)\}\}", re.S)
#: inside a word: ``{{expr}}`` (taken whole, so a ``$`` in it is Python's), ``$$`` (a literal
#: ``$``), or ``$name`` (the longest run of identifier characters: ``$port.txt`` is ``$port``
#: then ``.txt``; attributes need ``{{lis.port}}``). A ``$`` before anything else stays as is.
_INTERP = re.compile(r"\{\{(.*?)\}\}|\$\$|\$([A-Za-z_][A-Za-z0-9_]*)", re.S)
_DOLLAR = re.compile(r"\$[$A-Za-z_]")
_WHOLE_NAME = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*\Z")


class Resolver:
    """Resolves ``$name`` and ``{{expr}}`` in a namespace.

    ``namespace`` None (the ``osc-live`` command, whose input may come from a pipe): nothing
    is looked up or evaluated; ``{{expr}}`` and ``$name`` are errors. ``dollars=False`` (shell
    words, whose ``$`` the shell already expanded): a ``$`` inside a word is an ordinary
    character.
    """

    def __init__(self, namespace: Mapping[str, Any] | None, dollars: bool = True) -> None:
        self.namespace = namespace
        self.dollars = dollars

    def name(self, name: str, token: str) -> Any:
        """The value of ``$name``."""
        if not _NAME.match(name):
            raise GrammarError(f"bad variable {token!r}: expected $identifier", token)
        if self.namespace is None or name not in self.namespace:
            raise GrammarError(f"undefined variable {token!r}", token)
        return self.namespace[name]

    def expr(self, source: str, token: str) -> Any:
        """The value of ``{{source}}``, evaluated in the user's namespace (never without one)."""
        if self.namespace is None:
            raise GrammarError(
                f"{token!r}: {{{{expr}}}} is evaluated only by %osc in the user's own kernel,"
                " never from a command line or a pipe",
                token,
            )
        try:
            code = compile(source.strip(), "<osc>", "eval")
        except SyntaxError:
            raise GrammarError(f"bad expression {token!r}", token) from None
        try:
            return eval(code, dict(self.namespace))  # the user's own namespace and input
        except Exception as exc:
            raise GrammarError(
                f"{token!r} raised {type(exc).__name__}: {exc}".splitlines()[0], token
            ) from None

    def interpolates(self, text: str) -> bool:
        """True if :meth:`substitute` would change ``text`` (an unquoted word)."""
        if "{{" in text:
            return True
        return self.dollars and text[:1] not in "'\"" and _DOLLAR.search(text) is not None

    def substitute(self, text: str, token: str) -> str:
        """Replace every ``{{expr}}`` and ``$name`` inside ``text`` by ``str(value)``, and ``$$``
        by ``$``; a quoted word keeps its ``$`` (only ``{{expr}}`` is replaced there)."""
        if not self.interpolates(text):
            return text
        if not self.dollars or text[:1] in "'\"":
            return fill_exprs(text, self, token)

        def replace(m: re.Match[str]) -> str:
            if m.group(1) is not None:
                return str(self.expr(m.group(1), token))
            name = m.group(2)
            if name is None:
                return "$"
            if self.namespace is None or name not in self.namespace:
                shown = repr(token) if token == m.group(0) else f"'${name}' in {token!r}"
                raise GrammarError(f"undefined variable {shown} (write $$ for a literal $)", token)
            return str(plain(self.namespace[name]))

        return _INTERP.sub(replace, text)


def fill_exprs(text: str, res: Resolver, token: str) -> str:
    """Replace each ``{{expr}}`` in ``text`` by ``str(value)`` (``$`` left as is)."""
    return _EXPR.sub(lambda m: str(res.expr(m.group(1), token)), text)


def plain(value: Any) -> Any:
    """numpy scalars and arrays to Python values; tuples to lists."""
    if isinstance(value, (bool, int, float, str, bytes, type(None))):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return plain(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return plain(item())
    return value


def tag_of(value: Any, float_tag: str = "f", token: str | None = None) -> str:
    """The type tag(s) of one value (:func:`osc_live.osc_message.infer_tag`), as a GrammarError
    naming the token when the value has no OSC type."""
    try:
        return infer_tag(value, float_tag=float_tag)
    except BuildError as exc:
        shown = token or repr(value)
        if isinstance(value, int) and not isinstance(value, bool):
            raise GrammarError(f"integer out of 64-bit range: {shown}", token) from None
        raise GrammarError(
            f"cannot send {type(value).__name__} value {shown!r} as OSC ({exc})".splitlines()[0],
            shown,
        ) from None


_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_CONSTANTS = {"True": True, "False": False, "None": None}
_BARE = re.compile(r"[A-Za-z_][\w.\-]*\Z")
_SIMPLE_STRING = re.compile(r"""(?:'[^'"\\]*'|"[^'"\\]*")\Z""")


def literal(text: str, lenient: bool = False) -> Any:
    """``ast.literal_eval`` or a bare word; raises GrammarError for broken literals."""
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    if _SIMPLE_STRING.match(text):
        return text[1:-1]
    if _BARE.match(text):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    if lenient:
        return text  # the CLI: any shell word is a string
    raise GrammarError(f"bad argument {text!r}: not a Python literal", text)


def _number(text: str, token: str, tag: str, kind: type) -> Any:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    if kind is float and text.lower() in ("inf", "-inf", "+inf", "nan"):
        value = float(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GrammarError(f"bad argument {token!r}: {tag}: needs a number", token)
    if kind is int:
        if isinstance(value, float):
            if not value.is_integer():
                raise GrammarError(f"bad argument {token!r}: {tag}: needs an integer", token)
            value = int(value)
        lo, hi = {"i": (INT32_MIN, INT32_MAX), "t": (0, 2**64 - 1)}.get(tag, (INT64_MIN, INT64_MAX))
        if not lo <= value <= hi:
            raise GrammarError(f"bad argument {token!r}: out of range for {tag}:", token)
        return value
    value = float(value)
    if tag == "f" and math.isfinite(value) and abs(value) > 3.4028234663852886e38:
        raise GrammarError(f"bad argument {token!r}: out of range for float32", token)
    return value


def relative_time(text: str, token: str) -> float:
    """``+0.25`` / ``0.25`` seconds from now, or ``now``; returns Unix seconds."""
    if text == "now":
        return time.time()
    try:
        offset = float(text)
    except ValueError:
        raise GrammarError(f"bad time {token!r}: expected +seconds", token) from None
    if not math.isfinite(offset) or offset < 0:
        raise GrammarError(f"bad time {token!r}: expected +seconds", token)
    return time.time() + offset


def _tagged(tag: str, raw: str, token: str, res: Resolver) -> Any:
    if _WHOLE_NAME.match(raw):
        return plain(res.name(raw[1:], token))
    if raw.startswith("{{") and raw.endswith("}}") and raw.count("{{") == 1:
        return plain(res.expr(raw[2:-2], token))
    if tag in "ih":
        return _number(raw, token, tag, int)
    if tag in "fd":
        return _number(raw, token, tag, float)
    if tag in "sS":
        if raw[:1] in "'\"":
            value = literal(raw)
            if not isinstance(value, str):
                raise GrammarError(f"bad argument {token!r}: {tag}: needs a string", token)
            return value
        return res.substitute(raw, token)
    if tag == "c":
        value = literal(raw) if raw[:1] in "'\"" else raw
        if isinstance(value, str) and len(value) == 1:
            return value
        raise GrammarError(f"bad argument {token!r}: c: needs one character", token)
    if tag == "t":  # a TimeTag: the encoder reads a plain number as Unix seconds
        try:
            if raw.startswith("+") or raw == "now":
                return TimeTag.from_ntp(unix_to_ntp(relative_time(raw, token)))
            return TimeTag.from_ntp(_number(raw or "x", token, "t", int))  # the raw NTP value
        except NtpError as exc:
            raise GrammarError(f"bad time {token!r}: {exc}", token) from None
    if tag == "b":
        if raw[:2] in ("b'", 'b"'):
            value = literal(raw)
            if isinstance(value, bytes):
                return value
        try:
            return bytes.fromhex(raw)
        except ValueError:
            raise GrammarError(f"bad argument {token!r}: b: needs hex or b'...'", token) from None
    if tag == "m":
        value = literal(raw)
        if (
            isinstance(value, (list, tuple))
            and len(value) == 4
            and all(isinstance(v, int) and 0 <= v <= 255 for v in value)
        ):
            return tuple(value)
        raise GrammarError(f"bad argument {token!r}: m: needs 4 bytes [port, st, d1, d2]", token)
    # "r": RGBA as a 32-bit unsigned integer
    value = _number(raw, token, "h", int)
    if not 0 <= value <= 0xFFFFFFFF:
        raise GrammarError(f"bad argument {token!r}: r: needs 0..0xFFFFFFFF", token)
    return value


def _spread(text: str, res: Resolver) -> list[Any]:
    inner = text[1:]
    if inner.startswith("$"):
        spread = res.name(inner[1:], text)
    elif inner.startswith("{{") and inner.endswith("}}"):
        spread = res.expr(inner[2:-2], text)
    else:
        raise GrammarError(f"bad argument {text!r}: * spreads only $name or {{{{expr}}}}", text)
    spread = plain(spread)
    if not isinstance(spread, list):
        raise GrammarError(f"bad argument {text!r}: not a sequence", text)
    return spread


def _value(text: str, res: Resolver, lenient: bool) -> Any:
    """One untagged argument word."""
    if _WHOLE_NAME.match(text) and res.dollars:
        return plain(res.name(text[1:], text))
    if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
        return plain(res.expr(text[2:-2], text))
    if text[:1] in "'\"" and "{{" in text:
        # A quoted string: read the literal, then fill in its {{expr}} (quotes not kept).
        lit = literal(text, lenient)
        if not isinstance(lit, str):
            raise GrammarError(f"bad argument {text!r}: not a string", text)
        return fill_exprs(lit, res, text)
    if "{{" in text or (
        res.interpolates(text) and text[:1] not in "[(" and text[:2] not in ("b'", 'b"')
    ):
        return res.substitute(text, text)  # inside a word: the result is a string
    return plain(literal(text, lenient))


def args_tags(
    tokens: Sequence[Token], res: Resolver, float_tag: str, lenient: bool = False
) -> tuple[list[Any], str, bool]:
    """Values, full type tags, and whether the tags must be given to the encoder."""
    values: list[Any] = []
    tags = ""
    explicit = float_tag != "f"
    for tok in tokens:
        text = tok.text
        if text in _BARE_TAGS:
            values.append(_BARE_TAGS[text])
            tags += text
            explicit = explicit or text == "I"
            continue
        m = _TAGGED.match(text)
        if m and not text.startswith(("'", '"')):
            tag, raw = m.group(1), m.group(2)
            if not raw:
                raise GrammarError(f"bad argument {text!r}: {tag}: needs a value", text)
            value = _tagged(tag, raw, text, res)
            if tag in "ih" and isinstance(value, float) and value.is_integer():
                value = int(value)
            values.append(value)
            tags += tag
            explicit = True
            continue
        if text.startswith("*") and (not lenient or text[1:2] in ("$", "{")):
            for v in _spread(text, res):
                values.append(v)
                tags += tag_of(v, float_tag, text)
            continue
        value = _value(text, res, lenient)
        values.append(value)
        tags += tag_of(value, float_tag, text)
    return values, tags, explicit


_ADDRESS_BAD = re.compile(r"[\s#]")


def address(token: Token, res: Resolver, what: str = "address") -> str:
    """An OSC address (or pattern) word, interpolated."""
    text = res.substitute(token.text, token.text)
    if text.startswith("'") or text.startswith('"'):
        lit = literal(text)
        if isinstance(lit, str):
            text = lit
    if not text.startswith("/") or _ADDRESS_BAD.search(text) or "\x00" in text:
        raise GrammarError(f"bad {what} {token.text!r}: must start with '/'", token.text)
    return text


def parse_message(
    tokens: Sequence[Token],
    namespace: Mapping[str, Any] | None = None,
    float_tag: str = "f",
    lenient: bool = False,
) -> MessageSpec:
    """``/address arg ...`` (already tokenized) to a :class:`MessageSpec`.

    ``lenient`` (the CLI, whose words the shell already unquoted): a word that is not a
    Python literal is a string instead of an error, and ``$`` is an ordinary character.
    """
    if not tokens:
        raise GrammarError("missing /address", None)
    res = Resolver(namespace, dollars=not lenient)
    addr = address(tokens[0], res)
    values, tags, explicit = args_tags(tokens[1:], res, float_tag, lenient)
    return MessageSpec(addr, tuple(values), tags, explicit)
