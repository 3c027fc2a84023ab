"""``%osc close [name | all]``: close a target, a listener, the synth, or everything."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.options import name
from osc_live.commands.registry import CommandError, ParseContext, Subcommand, no_more
from osc_live.commands.tokens import Token

__all__ = ["SUBCOMMAND", "Close", "close_widget_bindings"]


@dataclass(frozen=True)
class Close:
    """``close [name|all]`` (name None: all)."""

    name: str | None = None


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Close:
    """``[name | @name | all]``."""
    no_more(tokens[1:], "close takes one name")
    if not tokens or tokens[0].text == "all":
        return Close(None)
    text = tokens[0].text.lstrip("@")
    return Close(name(Token(text, tokens[0].column), "name"))


def close_widget_bindings() -> int:
    """Close every widget binding, if the widget module was ever imported.

    ``%osc close all`` and ``%unload_ext osc_live`` call this, so controls stop sending and
    stop following the old session's dispatcher (``close_all()``: every binding of the
    process; the widgets stay on screen, inert). Never imports ipywidgets. Returns how many
    bindings were open.
    """
    count = 0
    for module_name in ("osc_live.notebook.widgets", "osc_live.widgets"):
        widgets = sys.modules.get(module_name)
        if widgets is not None and hasattr(widgets, "close_all"):
            count = max(count, len(widgets.bindings()))
            widgets.close_all()
    return count


def run(cmd: Close, session: Any) -> str:
    """Close on the session; returns what was closed, as a line."""
    try:
        closed = session.close(cmd.name)
    except LookupError as exc:
        raise CommandError(str(exc)) from None
    label = cmd.name or "all"
    if cmd.name is None:  # the widget bindings go too (they map the session dispatcher)
        controls = close_widget_bindings()
        if controls:
            return f"closed all (and {controls} widget binding{'s' * (controls > 1)})"
    others = [n for n in closed or () if n != label]
    if others:  # close synth: the targets that pointed at it went with it
        return f"closed {label} (and its targets: {', '.join(others)})"
    return f"closed {label}"


SUBCOMMAND = Subcommand(
    name="close",
    usage="close [name | all]",
    summary="close a target or listener (synth: the synth and every target pointing at it);"
    " all (the default) closes everything",
    command=Close,
    parse=parse,
    run=run,
    completes="name",
)
