"""Options (``--mode 1.0``, ``--thread``), names (``@target``, listener names) and endpoint
words of command lines, shared by the subcommands."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from osc_live.commands.tokens import GrammarError, Token
from osc_live.commands.values import relative_time
from osc_live.endpoints import Endpoint, EndpointError, parse_endpoint

__all__ = [
    "OptionSpec",
    "endpoint",
    "looks_like_address",
    "message_tokens",
    "name",
    "seconds",
    "seconds_option",
    "split_options",
    "target_name",
    "time_option",
]

#: option name -> allowed values (``()`` any value, None a flag without value)
OptionSpec = Mapping[str, tuple[str, ...] | None]

_TARGET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


def split_options(
    tokens: Sequence[Token], spec: OptionSpec
) -> tuple[list[Token], dict[str, str | bool]]:
    """Split ``--flag`` / ``--opt value`` / ``--opt=value`` from the positional words."""
    positional: list[Token] = []
    opts: dict[str, str | bool] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.text.startswith("--"):
            key, _, inline = tok.text[2:].partition("=")
            if key not in spec:
                raise GrammarError(f"unknown option {tok.text!r}", tok.text)
            if key in opts:
                raise GrammarError(f"option {tok.text!r} given twice", tok.text)
            allowed = spec[key]
            if allowed is None:
                if inline:
                    raise GrammarError(f"option --{key} takes no value", tok.text)
                opts[key] = True
            else:
                if inline:
                    value = inline
                elif i + 1 < len(tokens):
                    i += 1
                    value = tokens[i].text
                else:
                    raise GrammarError(f"option --{key} needs a value", tok.text)
                if allowed and value not in allowed:
                    raise GrammarError(
                        f"bad value {value!r} for --{key}: expected {'|'.join(allowed)}", value
                    )
                opts[key] = value
        else:
            positional.append(tok)
        i += 1
    return positional, opts


def message_tokens(
    tokens: Sequence[Token], spec: OptionSpec
) -> tuple[list[Token], dict[str, str | bool]]:
    """Options come before the /address; everything from the address on is the message."""
    i = 0
    while i < len(tokens) and tokens[i].text.startswith("--"):
        key, _, inline = tokens[i].text[2:].partition("=")
        i += 2 if spec.get(key, None) is not None and not inline else 1
    _, opts = split_options(tokens[:i], spec)
    return list(tokens[i:]), opts


def time_option(opts: Mapping[str, str | bool], key: str = "at") -> float | None:
    """``--at +seconds`` as Unix seconds (None when absent)."""
    raw = opts.get(key)
    if raw is None:
        return None
    return relative_time(str(raw), str(raw))


def seconds(raw: str, key: str, upto: float = 60.0) -> float:
    """``--key S``: a number of seconds, 0 < S <= ``upto``; ValueError with the message the
    notebook and the terminal both show."""
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= upto:
        raise ValueError(f"bad value {raw!r} for --{key}: expected seconds (0, {upto:g}]")
    return value


def seconds_option(opts: Mapping[str, str | bool], key: str, default: float) -> float:
    """:func:`seconds` of option ``key`` (``default`` when absent); GrammarError."""
    raw = opts.get(key)
    if raw is None:
        return default
    try:
        return seconds(str(raw), key)
    except ValueError as exc:
        raise GrammarError(str(exc), str(raw)) from None


def target_name(token: Token) -> str:
    """``@name`` -> ``name``."""
    text = token.text[1:]
    if not _TARGET_NAME.match(text):
        raise GrammarError(f"bad target {token.text!r}: expected @name", token.text)
    return text


def name(token: Token, what: str) -> str:
    """A target or listener name (letters, digits, ``_ . -``; not starting with a digit)."""
    if not _TARGET_NAME.match(token.text):
        raise GrammarError(f"bad {what} {token.text!r}", token.text)
    return token.text


def looks_like_address(text: str) -> bool:
    """True if a positional word is an endpoint (``udp://…``, ``host:port``, ``9000``)."""
    return "://" in text or ":" in text or text.isdigit()


def endpoint(text: str, *, listening: bool = False, default_host: str = "127.0.0.1") -> Endpoint:
    """:func:`osc_live.endpoints.parse_endpoint`, its errors as GrammarError."""
    try:
        return parse_endpoint(text, listening=listening, default_host=default_host)
    except EndpointError as exc:
        raise GrammarError(str(exc), text) from None


def name_and_endpoint(
    positional: Sequence[Token], what: str, usage: str
) -> tuple[str | None, Token | None]:
    """``[name] [url]``: which positional word is the name and which the endpoint."""
    if len(positional) > 2:
        raise GrammarError(f"unexpected {positional[2].text!r}: {usage}", positional[2].text)
    if len(positional) == 2:
        return name(positional[0], f"{what} name"), positional[1]
    if len(positional) == 1:
        if looks_like_address(positional[0].text):
            return None, positional[0]
        return name(positional[0], f"{what} name or address"), None
    return None, None
