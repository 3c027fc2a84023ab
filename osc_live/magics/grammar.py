"""The one parser for ``%osc`` lines, ``%%osc`` cells and the ``osc-live`` command.

Pure functions, no I/O: a line of text (plus, in a notebook, the user namespace for ``$name`` and
``{{expr}}``) becomes a command object. Every mistake raises :class:`GrammarError`, whose message
names the bad token in one line; the magic turns it into IPython's ``UsageError`` and the CLI into
exit code 2.

Grammar (the README and ``%osc help`` are generated from :data:`SUBCOMMANDS`)::

    line     := subcommand words...
    message  := /address arg*
    arg      := python-literal | bare-word | tag ':' value | 'T' | 'F' | 'N' | 'I'
              | '$' name | '{{' expr '}}' | '*$' name | '*{{' expr '}}'
    tag      := i f d h s S c t b m r

``$name`` and ``{{expr}}`` also work inside unquoted words, addresses and URLs (the value as
text); ``$name`` ends at the first non-identifier character; ``$$`` is a literal ``$``. In the
``osc-live`` command's shell words (``lenient``) a ``$`` is an ordinary character.
"""

from __future__ import annotations

import ast
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from osc_live.errors import NtpError
from osc_live.parsing.ntp import unix_to_ntp

__all__ = [
    "SUBCOMMANDS",
    "Close",
    "Connect",
    "Endpoint",
    "Explain",
    "GrammarError",
    "Help",
    "Listen",
    "MessageSpec",
    "Monitor",
    "On",
    "Plot",
    "Send",
    "Status",
    "Token",
    "parse_cell",
    "parse_cell_header",
    "parse_command",
    "parse_endpoint",
    "parse_message",
    "parse_tokens",
    "strip_semicolon",
    "tokenize",
    "usage",
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: subcommand -> (usage, one-line summary). The order is the order of ``%osc help``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "connect": (
        "connect [name] [udp://host:port | tcp://host:port [--mode 1.0|1.1] | tcp://synth]",
        "add a target (the last connected is the default); no address: the built-in virtual synth",
    ),
    "send": (
        "send [@target] /address [arg ...]",
        "send one message; returns the OscMessage sent (end the line with ; to silence it)",
    ),
    "listen": (
        "listen [name] [udp://host:port | tcp://host:port | port] [--mode 1.0|1.1|auto] [--thread]",
        "receive on the kernel's asyncio loop (--thread: in a thread, for blocking cells)",
    ),
    "on": ("on /pattern function", "call function(address, *args) for matching messages"),
    "monitor": ("monitor [/pattern]", "live table of received and sent messages"),
    "plot": ("plot /address [--points N]", "live line plot of the numbers arriving on /address"),
    "explain": (
        "explain [--bundle] [--at +seconds] [--tcp 1.0|1.1] /address [arg ...]",
        "the packet's bytes, annotated (address, padding, tags, arguments, framing)",
    ),
    "status": ("status", "targets, listeners, the virtual synth and counters"),
    "close": (
        "close [name | all]",
        "close a target or listener (synth: the synth and every target pointing at it);"
        " all (the default) closes everything",
    ),
    "help": ("help [subcommand]", "this text"),
}

ARGUMENTS_HELP = """\
Arguments: Python literals (1, 2.5, "two words", True, None, [1, 2], b'\\x00'), bare words are
strings (freq), explicit tags i:3 f:1 d:0.1 h:5 s:text S:symbol c:a t:+0.5 b:00ff m:[0,144,60,100]
r:0xff0000ff, bare T F N I (true, false, nil, infinitum), $name and {{expr}} from the caller's
locals then the user namespace, also inside words (/track/$i/vol, udp://127.0.0.1:$port; $$ is
a literal $), *$name / *{{expr}} to spread a sequence into several arguments. End a line with ;
to hide its output.
%%osc [@target] [--bundle | --at +seconds]: one message per line (# comments), sent one by one,
or as one bundle (immediately, or timetagged seconds from now)."""


class GrammarError(ValueError):
    """A malformed command line; ``str(err)`` is one line that names the bad token."""

    def __init__(self, message: str, token: str | None = None) -> None:
        super().__init__(message)
        self.token = token


@dataclass(frozen=True)
class Token:
    """One word of a command line and the column it starts at."""

    text: str
    column: int


@dataclass(frozen=True)
class Endpoint:
    """Where to send or listen: ``scheme`` is "udp" or "tcp"; host "synth" is the virtual synth."""

    scheme: str
    host: str
    port: int

    @property
    def is_synth(self) -> bool:
        """True for the built-in virtual synth."""
        return self.host == "synth"

    @property
    def url(self) -> str:
        """The canonical ``scheme://host:port`` spelling."""
        if self.is_synth:
            return f"{self.scheme}://synth"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


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


@dataclass(frozen=True)
class Connect:
    """``connect [name] [url] [--mode]``."""

    name: str | None
    endpoint: Endpoint | None
    mode: str = "1.1"


@dataclass(frozen=True)
class Send:
    """``send [@target] /address args``."""

    target: str | None
    message: MessageSpec


@dataclass(frozen=True)
class Listen:
    """``listen [name] [url|port] [--mode] [--thread]``."""

    name: str | None
    endpoint: Endpoint
    mode: str = "auto"
    thread: bool = False


@dataclass(frozen=True)
class On:
    """``on /pattern function``."""

    pattern: str
    function: Callable[..., Any]
    function_name: str


@dataclass(frozen=True)
class Monitor:
    """``monitor [/pattern]``."""

    pattern: str | None


@dataclass(frozen=True)
class Plot:
    """``plot /address [--points N]``."""

    address: str
    points: int = 200


@dataclass(frozen=True)
class Explain:
    """``explain [--bundle] [--at t] [--tcp mode] /address args``."""

    messages: tuple[MessageSpec, ...]
    bundle: bool = False
    at: float | None = None
    tcp: str | None = None


@dataclass(frozen=True)
class Status:
    """``status``."""


@dataclass(frozen=True)
class Close:
    """``close [name|all]``."""

    name: str | None = None


@dataclass(frozen=True)
class Help:
    """``help [subcommand]``."""

    topic: str | None = None


@dataclass(frozen=True)
class CellHeader:
    """The first line of a ``%%osc`` cell."""

    target: str | None = None
    bundle: bool = False
    at: float | None = None


@dataclass(frozen=True)
class Cell:
    """A parsed ``%%osc`` cell: its header and one message per non-comment line."""

    header: CellHeader
    messages: tuple[MessageSpec, ...] = field(default_factory=tuple)
    silenced: bool = False  # a trailing ';' asked IPython to hide the output


Command = Connect | Send | Listen | On | Monitor | Plot | Explain | Status | Close | Help

# ----------------------------------------------------------------------------------------------
# tokenizer

_OPEN = {"[": "]", "(": ")", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}


_SPECIAL = re.compile(r"""['"\[\](){}#]""")
_WORD = re.compile(r"\S+")


def tokenize(line: str) -> list[Token]:
    """Split ``line`` on blanks outside quotes, brackets and ``{{...}}``; keep ``# ...`` out.

    A ``#`` that starts a word starts a comment. Raises GrammarError for an unterminated
    string, bracket or ``{{``.
    """
    if not _SPECIAL.search(line):  # the common case: plain words
        return [Token(m.group(), m.start()) for m in _WORD.finditer(line)]
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        if line[i] == "#":
            break
        start = i
        stack: list[str] = []
        while i < n:
            ch = line[i]
            if ch.isspace() and not stack:
                break
            if line.startswith("{{", i):
                end = line.find("}}", i + 2)
                if end < 0:
                    raise GrammarError(
                        f"unterminated '{{{{' in {line[start:].split()[0]!r}", line[start:]
                    )
                i = end + 2
                continue
            if ch in "'\"":
                i = _skip_string(line, i, start)
                continue
            if ch in _OPEN:
                stack.append(ch)
            elif ch in _CLOSE and stack:
                if stack[-1] != _CLOSE[ch]:
                    raise GrammarError(
                        f"mismatched {ch!r} in {line[start : i + 1]!r}", line[start : i + 1]
                    )
                stack.pop()
            i += 1
        if stack:
            raise GrammarError(f"unclosed {stack[-1]!r} in {line[start:]!r}", line[start:])
        tokens.append(Token(line[start:i], start))
    return tokens


def _skip_string(line: str, i: int, start: int) -> int:
    quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else line[i]
    j = i + len(quote)
    while j < len(line):
        if line[j] == "\\":
            j += 2
            continue
        if line.startswith(quote, j):
            return j + len(quote)
        j += 1
    raise GrammarError(f"unterminated string in {line[start:]!r}", line[start:])


# ----------------------------------------------------------------------------------------------
# values

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TARGET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_TAGGED = re.compile(r"([ifdhsSctbmr]):(.*)\Z", re.S)
_BARE_TAGS = {"T": True, "F": False, "N": None, "I": None}
_EXPR = re.compile(r"\{\{(.*?)\}\}", re.S)
#: inside a word: ``{{expr}}`` (taken whole, so a ``$`` in it is Python's), ``$$`` (a literal
#: ``$``), or ``$name`` (the longest run of identifier characters: ``$port.txt`` is ``$port``
#: then ``.txt``; attributes need ``{{lis.port}}``). A ``$`` before anything else stays as is.
_INTERP = re.compile(r"\{\{(.*?)\}\}|\$\$|\$([A-Za-z_][A-Za-z0-9_]*)", re.S)
_DOLLAR = re.compile(r"\$[$A-Za-z_]")
_WHOLE_NAME = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*\Z")


class _Resolver:
    """Resolves ``$name`` and ``{{expr}}`` in a namespace (None: interpolation refused).

    ``dollars=False`` (shell words of the ``osc-live`` command, whose ``$`` the shell already
    expanded): a ``$`` inside a word is an ordinary character.
    """

    def __init__(self, namespace: Mapping[str, Any] | None, dollars: bool = True) -> None:
        self.namespace = namespace
        self.dollars = dollars

    def name(self, name: str, token: str) -> Any:
        if not _NAME.match(name):
            raise GrammarError(f"bad variable {token!r}: expected $identifier", token)
        if self.namespace is None or name not in self.namespace:
            raise GrammarError(f"undefined variable {token!r}", token)
        return self.namespace[name]

    def expr(self, source: str, token: str) -> Any:
        if self.namespace is None:
            raise GrammarError(f"no namespace to evaluate {token!r}", token)
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
            return _fill_exprs(text, self, token)

        def replace(m: re.Match[str]) -> str:
            if m.group(1) is not None:
                return str(self.expr(m.group(1), token))
            name = m.group(2)
            if name is None:
                return "$"
            if self.namespace is None or name not in self.namespace:
                shown = repr(token) if token == m.group(0) else f"'${name}' in {token!r}"
                raise GrammarError(f"undefined variable {shown} (write $$ for a literal $)", token)
            return str(_plain(self.namespace[name]))

        return _INTERP.sub(replace, text)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays to Python values; tuples to lists."""
    if isinstance(value, (bool, int, float, str, bytes, type(None))):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _plain(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return _plain(item())
    return value


def infer_tag(value: Any, float_tag: str = "f", token: str | None = None) -> str:
    """The OSC type tag python-osc would give ``value`` (``float_tag`` for floats)."""
    if value is True:
        return "T"
    if value is False:
        return "F"
    if value is None:
        return "N"
    if isinstance(value, int):
        if INT32_MIN <= value <= INT32_MAX:
            return "i"
        if INT64_MIN <= value <= INT64_MAX:
            return "h"
        raise GrammarError(f"integer out of 64-bit range: {token or value!r}", token)
    if isinstance(value, float):
        return float_tag
    if isinstance(value, str):
        return "s"
    if isinstance(value, bytes):
        return "b"
    if isinstance(value, list):
        return "[" + "".join(infer_tag(v, float_tag, token) for v in value) + "]"
    shown = token or repr(value)
    raise GrammarError(f"cannot send {type(value).__name__} value {shown!r} as OSC", shown)


_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")


_CONSTANTS = {"True": True, "False": False, "None": None}
_BARE = re.compile(r"[A-Za-z_][\w.\-]*\Z")
_SIMPLE_STRING = re.compile(r"""(?:'[^'"\\]*'|"[^'"\\]*")\Z""")


def _literal(text: str, lenient: bool = False) -> Any:
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
        lo, hi = (INT32_MIN, INT32_MAX) if tag == "i" else (INT64_MIN, INT64_MAX)
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


def unix_to_timetag(seconds: float) -> int:
    """Unix seconds to a 64-bit NTP timetag (for ``t:`` arguments; eras as ``ntp.unix_to_ntp``)."""
    return unix_to_ntp(seconds)


def _tagged(tag: str, raw: str, token: str, res: _Resolver) -> Any:
    if _WHOLE_NAME.match(raw):
        return _plain(res.name(raw[1:], token))
    if raw.startswith("{{") and raw.endswith("}}") and raw.count("{{") == 1:
        return _plain(res.expr(raw[2:-2], token))
    if tag in "ih":
        return _number(raw, token, tag, int)
    if tag in "fd":
        return _number(raw, token, tag, float)
    if tag in "sS":
        if raw[:1] in "'\"":
            value = _literal(raw)
            if not isinstance(value, str):
                raise GrammarError(f"bad argument {token!r}: {tag}: needs a string", token)
            return value
        return res.substitute(raw, token)
    if tag == "c":
        value = _literal(raw) if raw[:1] in "'\"" else raw
        if isinstance(value, str) and len(value) == 1:
            return value
        raise GrammarError(f"bad argument {token!r}: c: needs one character", token)
    if tag == "t":
        if raw.startswith("+") or raw == "now":
            try:
                return unix_to_timetag(relative_time(raw, token))
            except NtpError as exc:
                raise GrammarError(f"bad time {token!r}: {exc}", token) from None
        return _number(raw, token, "h", int) if raw else _number("x", token, "t", int)
    if tag == "b":
        if raw[:2] in ("b'", 'b"'):
            value = _literal(raw)
            if isinstance(value, bytes):
                return value
        try:
            return bytes.fromhex(raw)
        except ValueError:
            raise GrammarError(f"bad argument {token!r}: b: needs hex or b'...'", token) from None
    if tag == "m":
        value = _literal(raw)
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


def _args(
    tokens: Sequence[Token], res: _Resolver, float_tag: str, lenient: bool = False
) -> tuple[list[Any], str, bool]:
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
        if text.startswith("*"):
            inner = text[1:]
            if inner.startswith("$"):
                spread = res.name(inner[1:], text)
            elif inner.startswith("{{") and inner.endswith("}}"):
                spread = res.expr(inner[2:-2], text)
            else:
                raise GrammarError(
                    f"bad argument {text!r}: * spreads only $name or {{{{expr}}}}", text
                )
            spread = _plain(spread)
            if not isinstance(spread, list):
                raise GrammarError(f"bad argument {text!r}: not a sequence", text)
            for v in spread:
                values.append(v)
                tags += infer_tag(v, float_tag, text)
            continue
        if _WHOLE_NAME.match(text):
            value = _plain(res.name(text[1:], text))
        elif text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
            value = _plain(res.expr(text[2:-2], text))
        elif text[:1] in "'\"" and "{{" in text:
            # A quoted string: read the literal, then fill in its {{expr}} (quotes not kept).
            lit = _literal(text, lenient)
            if not isinstance(lit, str):
                raise GrammarError(f"bad argument {text!r}: not a string", text)
            value = _fill_exprs(lit, res, text)
        elif "{{" in text or (
            res.interpolates(text) and text[:1] not in "[(" and text[:2] not in ("b'", 'b"')
        ):
            value = res.substitute(text, text)  # inside a word: the result is a string
        else:
            value = _plain(_literal(text, lenient))
        values.append(value)
        tags += infer_tag(value, float_tag, text)
    return values, tags, explicit


def _fill_exprs(text: str, res: _Resolver, token: str) -> str:
    """Replace each ``{{expr}}`` in ``text`` by ``str(value)`` (``$`` left as is)."""
    return _EXPR.sub(lambda m: str(res.expr(m.group(1), token)), text)


_ADDRESS_BAD = re.compile(r"[\s#]")


def _address(token: Token, res: _Resolver, what: str = "address") -> str:
    text = res.substitute(token.text, token.text)
    if text.startswith("'") or text.startswith('"'):
        lit = _literal(text)
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
    Python literal is a string instead of an error.
    """
    if not tokens:
        raise GrammarError("missing /address", None)
    res = _Resolver(namespace, dollars=not lenient)
    address = _address(tokens[0], res)
    values, tags, explicit = _args(tokens[1:], res, float_tag, lenient)
    return MessageSpec(address, tuple(values), tags, explicit)


# ----------------------------------------------------------------------------------------------
# endpoints

_URL = re.compile(r"(?:(udp|tcp)://)?(?:\[([^\]]*)\]|([^:/\[\]]*))(?::(\d*))?\Z")


def parse_endpoint(
    text: str, *, listening: bool = False, default_host: str = "127.0.0.1"
) -> Endpoint:
    """``udp://host:port``, ``tcp://host:port``, ``host:port``, ``port``, ``tcp://:port``,
    ``udp://synth`` / ``tcp://synth`` (the virtual synth) to an :class:`Endpoint`."""
    if text.isdigit():
        return _endpoint("udp", default_host, text, text)
    if "://" in text and not text.startswith(("udp://", "tcp://")):
        scheme = text.split("://", 1)[0]
        raise GrammarError(f"bad address {text!r}: scheme {scheme!r} is not udp or tcp", text)
    m = _URL.match(text)
    if not m:
        raise GrammarError(
            f"bad address {text!r}: expected udp://host:port or tcp://host:port", text
        )
    scheme = m.group(1) or "udp"
    host = m.group(2) if m.group(2) is not None else (m.group(3) or "")
    port = m.group(4)
    if host == "synth" and not port and not listening:
        return Endpoint(scheme, "synth", 0)
    if port is None or port == "":
        raise GrammarError(f"bad address {text!r}: missing :port", text)
    return _endpoint(scheme, host or default_host, port, text)


def _endpoint(scheme: str, host: str, port: str, text: str) -> Endpoint:
    number = int(port)
    if not 0 <= number <= 65535:
        raise GrammarError(f"bad address {text!r}: port out of range", text)
    return Endpoint(scheme, host, number)


# ----------------------------------------------------------------------------------------------
# options


def _options(
    tokens: Sequence[Token], spec: Mapping[str, tuple[str, ...] | None]
) -> tuple[list[Token], dict[str, str | bool]]:
    """Split ``--flag`` / ``--opt value`` (spec: option -> allowed values, () any, None flag)."""
    positional: list[Token] = []
    opts: dict[str, str | bool] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.text.startswith("--"):
            name, _, inline = tok.text[2:].partition("=")
            if name not in spec:
                raise GrammarError(f"unknown option {tok.text!r}", tok.text)
            if name in opts:
                raise GrammarError(f"option {tok.text!r} given twice", tok.text)
            allowed = spec[name]
            if allowed is None:
                if inline:
                    raise GrammarError(f"option --{name} takes no value", tok.text)
                opts[name] = True
            else:
                if inline:
                    value = inline
                elif i + 1 < len(tokens):
                    i += 1
                    value = tokens[i].text
                else:
                    raise GrammarError(f"option --{name} needs a value", tok.text)
                if allowed and value not in allowed:
                    raise GrammarError(
                        f"bad value {value!r} for --{name}: expected {'|'.join(allowed)}", value
                    )
                opts[name] = value
        else:
            positional.append(tok)
        i += 1
    return positional, opts


def _message_tokens(
    tokens: Sequence[Token], spec: Mapping[str, tuple[str, ...] | None]
) -> tuple[list[Token], dict[str, str | bool]]:
    """Options come before the /address; everything from the address on is the message."""
    i = 0
    while i < len(tokens) and tokens[i].text.startswith("--"):
        name, _, inline = tokens[i].text[2:].partition("=")
        i += 2 if spec.get(name, None) is not None and not inline else 1
    _, opts = _options(tokens[:i], spec)
    return list(tokens[i:]), opts


def _time_option(opts: Mapping[str, str | bool], name: str = "at") -> float | None:
    raw = opts.get(name)
    if raw is None:
        return None
    return relative_time(str(raw), str(raw))


def _target_name(token: Token) -> str:
    name = token.text[1:]
    if not _TARGET_NAME.match(name):
        raise GrammarError(f"bad target {token.text!r}: expected @name", token.text)
    return name


def _name(token: Token, what: str) -> str:
    if not _TARGET_NAME.match(token.text):
        raise GrammarError(f"bad {what} {token.text!r}", token.text)
    return token.text


def _looks_like_address(text: str) -> bool:
    return "://" in text or ":" in text or text.isdigit()


# ----------------------------------------------------------------------------------------------
# commands


def parse_command(
    line: str,
    namespace: Mapping[str, Any] | None = None,
    *,
    float_tag: str = "f",
    listen_host: str = "127.0.0.1",
) -> Command:
    """Parse one ``%osc`` line into a command object."""
    return parse_tokens(tokenize(line), namespace, float_tag=float_tag, listen_host=listen_host)


def parse_tokens(
    tokens: Sequence[Token],
    namespace: Mapping[str, Any] | None = None,
    *,
    float_tag: str = "f",
    listen_host: str = "127.0.0.1",
    lenient: bool = False,
) -> Command:
    """Parse tokens (a tokenized line, or the CLI's argv one word per token)."""
    if not tokens:
        return Help(None)
    head, rest = tokens[0], tokens[1:]
    sub = head.text
    if sub.startswith("/") or sub.startswith("@"):
        return _send(tokens, namespace, float_tag, lenient)  # "%osc /x 1": short for send
    if sub not in SUBCOMMANDS:
        close = [s for s in SUBCOMMANDS if s.startswith(sub[:2])]
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise GrammarError(f"unknown subcommand {sub!r}{hint}; try %osc help", sub)
    if sub == "send":
        return _send(rest, namespace, float_tag, lenient)
    if sub == "connect":
        return _connect(_expand(rest, namespace, lenient))
    if sub == "listen":
        return _listen(_expand(rest, namespace, lenient), listen_host)
    if sub == "on":
        return _on(rest, namespace)
    if sub == "monitor":
        pos, _ = _options(rest, {})
        if len(pos) > 1:
            raise GrammarError(
                f"unexpected {pos[1].text!r}: monitor takes one /pattern", pos[1].text
            )
        res = _Resolver(namespace, dollars=not lenient)
        return Monitor(_address(pos[0], res, "pattern") if pos else None)
    if sub == "plot":
        pos, opts = _options(rest, {"points": ()})
        if not pos:
            raise GrammarError("plot needs an /address", None)
        if len(pos) > 1:
            raise GrammarError(f"unexpected {pos[1].text!r}: plot takes one /address", pos[1].text)
        points = 200
        if "points" in opts:
            raw = str(opts["points"])
            if not raw.isdigit() or not 2 <= int(raw) <= 100_000:
                raise GrammarError(f"bad value {raw!r} for --points: expected 2..100000", raw)
            points = int(raw)
        return Plot(_address(pos[0], _Resolver(namespace, dollars=not lenient)), points)
    if sub == "explain":
        return _explain(rest, namespace, float_tag, lenient)
    if sub == "status":
        if rest:
            raise GrammarError(f"unexpected {rest[0].text!r}: status takes nothing", rest[0].text)
        return Status()
    if sub == "close":
        if len(rest) > 1:
            raise GrammarError(f"unexpected {rest[1].text!r}: close takes one name", rest[1].text)
        if not rest or rest[0].text == "all":
            return Close(None)
        text = rest[0].text.lstrip("@")
        return Close(_name(Token(text, rest[0].column), "name"))
    # help
    if len(rest) > 1:
        raise GrammarError(f"unexpected {rest[1].text!r}", rest[1].text)
    if rest and rest[0].text not in SUBCOMMANDS:
        raise GrammarError(f"no help for {rest[0].text!r}", rest[0].text)
    return Help(rest[0].text if rest else None)


def _send(
    tokens: Sequence[Token],
    namespace: Mapping[str, Any] | None,
    float_tag: str,
    lenient: bool = False,
) -> Send:
    target = None
    tokens = list(tokens)
    if tokens and tokens[0].text.startswith("@"):
        target = _target_name(tokens[0])
        tokens = tokens[1:]
    if not tokens:
        raise GrammarError("send needs an /address", None)
    return Send(target, parse_message(tokens, namespace, float_tag, lenient))


def _expand(
    tokens: Sequence[Token], namespace: Mapping[str, Any] | None, lenient: bool = False
) -> list[Token]:
    """``{{expr}}`` and ``$name`` in names and URLs (``udp://127.0.0.1:$port``)."""
    res = _Resolver(namespace, dollars=not lenient)
    return [Token(res.substitute(tok.text, tok.text), tok.column) for tok in tokens]


def _connect(tokens: Sequence[Token]) -> Connect:
    pos, opts = _options(tokens, {"mode": ("1.0", "1.1")})
    if len(pos) > 2:
        raise GrammarError(f"unexpected {pos[2].text!r}: connect [name] [url]", pos[2].text)
    name: str | None = None
    endpoint: Endpoint | None = None
    if len(pos) == 2:
        name = _name(pos[0], "target name")
        endpoint = parse_endpoint(pos[1].text)
    elif len(pos) == 1:
        if _looks_like_address(pos[0].text):
            endpoint = parse_endpoint(pos[0].text)
        else:
            name = _name(pos[0], "target name or address")
    if name is not None and _looks_like_address(name):
        raise GrammarError(f"bad target name {name!r}", name)
    mode = str(opts.get("mode", "1.1"))
    if "mode" in opts and (endpoint is None or endpoint.scheme != "tcp"):
        raise GrammarError("--mode applies to tcp:// targets only", "--mode")
    return Connect(name, endpoint, mode)


def _listen(tokens: Sequence[Token], listen_host: str) -> Listen:
    pos, opts = _options(tokens, {"mode": ("1.0", "1.1", "auto"), "thread": None})
    if len(pos) > 2:
        raise GrammarError(f"unexpected {pos[2].text!r}: listen [name] [url|port]", pos[2].text)
    name: str | None = None
    text = "0"
    if len(pos) == 2:
        name = _name(pos[0], "listener name")
        text = pos[1].text
    elif len(pos) == 1:
        if _looks_like_address(pos[0].text):
            text = pos[0].text
        else:
            name = _name(pos[0], "listener name or address")
    endpoint = parse_endpoint(text, listening=True, default_host=listen_host)
    if "mode" in opts and endpoint.scheme != "tcp":
        raise GrammarError("--mode applies to tcp:// listeners only", "--mode")
    return Listen(name, endpoint, str(opts.get("mode", "auto")), bool(opts.get("thread", False)))


def _on(tokens: Sequence[Token], namespace: Mapping[str, Any] | None) -> On:
    if len(tokens) != 2:
        shown = tokens[2].text if len(tokens) > 2 else None
        raise GrammarError(
            f"unexpected {shown!r}: on /pattern function"
            if shown
            else "on needs /pattern and a function",
            shown,
        )
    pattern = _address(tokens[0], _Resolver(namespace), "pattern")
    name = tokens[1].text
    res = _Resolver(namespace)
    if name.startswith("{{") and name.endswith("}}"):
        func = res.expr(name[2:-2], name)
    else:
        dotted = name.lstrip("$")
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", dotted):
            raise GrammarError(f"bad function {name!r}", name)
        first, *attrs = dotted.split(".")
        func = res.name(first, name)
        for attr in attrs:
            try:
                func = getattr(func, attr)
            except AttributeError:
                raise GrammarError(f"undefined function {name!r}", name) from None
    if not callable(func):
        raise GrammarError(f"{name!r} is not callable", name)
    return On(pattern, func, name)


def _explain(
    tokens: Sequence[Token],
    namespace: Mapping[str, Any] | None,
    float_tag: str,
    lenient: bool = False,
) -> Explain:
    spec: dict[str, tuple[str, ...] | None] = {"bundle": None, "at": (), "tcp": ("1.0", "1.1")}
    rest, opts = _message_tokens(tokens, spec)
    if not rest:
        raise GrammarError("explain needs an /address", None)
    message = parse_message(rest, namespace, float_tag, lenient)
    at = _time_option(opts)
    tcp = opts.get("tcp")
    return Explain(
        (message,), bool(opts.get("bundle")) or at is not None, at, str(tcp) if tcp else None
    )


def strip_semicolon(tokens: Sequence[Token]) -> tuple[list[Token], bool]:
    """IPython's "hide the output" convention: remove one ``;`` ending the last token.

    Returns the tokens and whether a ``;`` was removed. The tokens come from :func:`tokenize`,
    so a ``;`` inside quotes (``'a;'``) or ``{{...}}`` never ends a token, and a ``# comment``
    after the ``;`` is already gone (``%osc send /x 1;  # note``). The magic applies this, the
    ``osc-live`` command does not (a shell word ``'a;'`` reaches it as ``a;``).
    """
    out = list(tokens)
    if not out or not out[-1].text.endswith(";"):
        return out, False
    last = out.pop()
    if len(last.text) > 1:
        out.append(Token(last.text[:-1], last.column))
    return out, True


def parse_cell_header(line: str) -> CellHeader:
    """The ``%%osc`` line: ``[@target] [--bundle | --at +seconds]``."""
    return _cell_header(tokenize(line))


def _cell_header(tokens: Sequence[Token]) -> CellHeader:
    pos, opts = _options(tokens, {"bundle": None, "at": ()})
    target = None
    for tok in pos:
        if tok.text.startswith("@") and target is None:
            target = _target_name(tok)
        else:
            raise GrammarError(
                f"unexpected {tok.text!r}: %%osc [@target] [--bundle|--at +s]", tok.text
            )
    at = _time_option(opts)
    return CellHeader(target, bool(opts.get("bundle")) or at is not None, at)


def parse_cell(
    line: str,
    cell: str,
    namespace: Mapping[str, Any] | None = None,
    *,
    float_tag: str = "f",
    semicolon: bool = False,
) -> Cell:
    """A whole ``%%osc`` cell; errors name the line number and the bad token.

    ``semicolon`` (the magic): one ``;`` ending the first line or the last message line is
    IPython's "hide the output" mark, removed before parsing; ``Cell.silenced`` says so.
    """
    header_tokens = tokenize(line)
    silenced = False
    if semicolon:
        header_tokens, silenced = strip_semicolon(header_tokens)
    header = _cell_header(header_tokens)
    lines: list[tuple[int, list[Token]]] = []
    for lineno, text in enumerate(cell.splitlines(), 1):
        try:
            tokens = tokenize(text)
        except GrammarError as err:
            raise GrammarError(f"line {lineno}: {err}", err.token) from None
        if tokens:
            lines.append((lineno, tokens))
    if semicolon and lines:
        lineno, tokens = lines[-1]
        tokens, stripped = strip_semicolon(tokens)
        silenced = silenced or stripped
        lines[-1] = (lineno, tokens)
    messages = []
    for lineno, tokens in lines:
        if not tokens:  # the last line was a lone ';'
            continue
        try:
            messages.append(parse_message(tokens, namespace, float_tag))
        except GrammarError as err:
            raise GrammarError(f"line {lineno}: {err}", err.token) from None
    if not messages:
        raise GrammarError("%%osc cell has no message", None)
    return Cell(header, tuple(messages), silenced)


def usage(topic: str | None = None, prefix: str = "%osc ") -> str:
    """Generated help: every subcommand (or one), then the argument syntax."""
    if topic is not None:
        use, summary = SUBCOMMANDS[topic]
        return f"{prefix}{use}\n    {summary}"
    lines = [f"{prefix}{use}\n    {summary}" for use, summary in SUBCOMMANDS.values()]
    return "\n".join(lines) + "\n\n" + ARGUMENTS_HELP
