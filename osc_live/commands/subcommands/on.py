"""``%osc on /pattern function``: call ``function(address, *args)`` for matching messages."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.registry import ParseContext, Subcommand
from osc_live.commands.tokens import GrammarError, Token
from osc_live.commands.values import Resolver, address

__all__ = ["SUBCOMMAND", "On"]

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True)
class On:
    """``on /pattern function``."""

    pattern: str
    function: Callable[..., Any]
    function_name: str


def parse(tokens: Sequence[Token], ctx: ParseContext) -> On:
    """``/pattern function`` (a name, ``$name``, ``a.b`` or ``{{expr}}`` from the namespace)."""
    if len(tokens) != 2:
        shown = tokens[2].text if len(tokens) > 2 else None
        raise GrammarError(
            f"unexpected {shown!r}: on /pattern function"
            if shown
            else "on needs /pattern and a function",
            shown,
        )
    res = Resolver(ctx.namespace)
    pattern = address(tokens[0], res, "pattern")
    name = tokens[1].text
    if name.startswith("{{") and name.endswith("}}"):
        func = res.expr(name[2:-2], name)
    else:
        dotted = name.lstrip("$")
        if not _DOTTED.fullmatch(dotted):
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


def run(cmd: On, session: Any) -> Any:
    """Map the handler; in a kernel, returns the log view of what it prints."""
    session.on(cmd.pattern, cmd.function, log=session.live_display)
    if session.live_display:
        return session.logs[-1]
    return f"{cmd.pattern} → {cmd.function_name}"


SUBCOMMAND = Subcommand(
    name="on",
    usage="on /pattern function",
    summary="call function(address, *args) for matching messages",
    command=On,
    parse=parse,
    run=run,
    completes="address",
)
