"""The commands layer: what ``%osc`` and ``osc-live`` do, without IPython.

``magics`` (IPython glue) → **commands** → ``notebook`` (session, views, widgets, synth) →
transports → protocol. This package parses lines (:mod:`~osc_live.commands.tokens`,
:mod:`~osc_live.commands.values`, :mod:`~osc_live.commands.parsing`), builds packets
(:mod:`~osc_live.commands.build`), explains them (:mod:`~osc_live.commands.annotate`) and
runs one module per subcommand (:mod:`osc_live.commands.subcommands`, listed in
:mod:`osc_live.commands.registry`). The magics call :func:`parse_tokens` / :func:`run` /
:func:`send_cell`; the ``osc-live`` command calls a subcommand's ``cli`` face. Only the magics
pass a namespace, so only they ever evaluate ``{{expr}}``.
"""

from __future__ import annotations

from typing import Any

from osc_live.commands.build import build_bundle, build_message, network_error
from osc_live.commands.parsing import (
    SUBCOMMANDS,
    Cell,
    CellHeader,
    parse_cell,
    parse_cell_header,
    parse_command,
    parse_tokens,
    usage,
)
from osc_live.commands.registry import (
    CliIO,
    CliUsage,
    CommandError,
    ParseContext,
    Subcommand,
    for_command,
    register,
    subcommands,
)
from osc_live.commands.tokens import GrammarError, Token, strip_semicolon, tokenize
from osc_live.commands.values import MessageSpec, parse_message

__all__ = [
    "SUBCOMMANDS",
    "Cell",
    "CellHeader",
    "CliIO",
    "CliUsage",
    "CommandError",
    "GrammarError",
    "MessageSpec",
    "ParseContext",
    "Subcommand",
    "Token",
    "build_bundle",
    "build_message",
    "parse_cell",
    "parse_cell_header",
    "parse_command",
    "parse_message",
    "parse_tokens",
    "register",
    "run",
    "send_cell",
    "strip_semicolon",
    "subcommands",
    "tokenize",
    "usage",
]


def run(cmd: Any, session: Any) -> Any:
    """Execute a parsed command on ``session``; returns what the magic shows or returns."""
    sub = for_command(cmd)
    if sub.run is None:  # pragma: no cover - a subcommand module without a magic face
        raise CommandError(f"{sub.name} does not run in a notebook")
    return sub.run(cmd, session)


def send_cell(cell: Cell, session: Any) -> Any:
    """Send a ``%%osc`` cell: one bundle (``--bundle``/``--at``) or each message in order."""
    from osc_live.commands.subcommands.send import target_of

    target = target_of(session, cell.header.target)
    try:
        if cell.header.bundle:
            bundle = build_bundle(cell.messages, cell.header.at)
            target.send(bundle)
            return bundle
        sent = []
        for spec in cell.messages:
            message = build_message(spec)
            target.send(message)
            sent.append(message)
        return sent
    except OSError as exc:
        raise network_error(f"send to {target.name} failed", exc) from None
