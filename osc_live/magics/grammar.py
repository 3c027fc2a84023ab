"""``osc_live.magics.grammar``: the former home of the ``%osc`` parser, kept for imports.

The grammar lives in :mod:`osc_live.commands` (shared with the ``osc-live`` command); the
command classes in their subcommand modules.
"""

from __future__ import annotations

from osc_live.commands.options import endpoint as _endpoint
from osc_live.commands.parsing import (
    ARGUMENTS_HELP,
    SUBCOMMANDS,
    Cell,
    CellHeader,
    parse_cell,
    parse_cell_header,
    parse_command,
    parse_tokens,
    usage,
)
from osc_live.commands.subcommands.close import Close
from osc_live.commands.subcommands.connect import Connect
from osc_live.commands.subcommands.explain import Explain
from osc_live.commands.subcommands.help import Help
from osc_live.commands.subcommands.listen import Listen
from osc_live.commands.subcommands.monitor import Monitor
from osc_live.commands.subcommands.on import On
from osc_live.commands.subcommands.plot import Plot
from osc_live.commands.subcommands.send import Send
from osc_live.commands.subcommands.status import Status
from osc_live.commands.tokens import GrammarError, Token, strip_semicolon, tokenize
from osc_live.commands.values import MessageSpec, parse_message, relative_time, tag_of
from osc_live.endpoints import Endpoint

__all__ = [
    "ARGUMENTS_HELP",
    "SUBCOMMANDS",
    "Cell",
    "CellHeader",
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
    "relative_time",
    "strip_semicolon",
    "tag_of",
    "tokenize",
    "usage",
]


def parse_endpoint(
    text: str, *, listening: bool = False, default_host: str = "127.0.0.1"
) -> Endpoint:
    """:func:`osc_live.endpoints.parse_endpoint`, errors as :class:`GrammarError`."""
    return _endpoint(text, listening=listening, default_host=default_host)
