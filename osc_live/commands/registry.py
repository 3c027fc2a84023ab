"""The subcommands of ``%osc`` and ``osc-live``: one module each, listed in :data:`BUILTIN`.

A subcommand module in ``osc_live/commands/subcommands/`` defines ``SUBCOMMAND =
Subcommand(...)``: its name, help, and up to two faces, sharing the same parsing helpers:

* the **magic** face (``usage``, ``parse``, ``run``): ``parse(tokens, ctx)`` turns the words
  after the subcommand into a command object (a frozen dataclass, ``command``), and
  ``run(cmd, session)`` executes it on the notebook session and returns what the magic shows;
* the **CLI** face (``cli_usage``, ``cli``): ``cli(words, io)`` runs ``osc-live NAME words...``
  and returns the exit code.

Adding a subcommand = adding its module and its name to :data:`BUILTIN` (the order there is
the order of the help). Modules are imported on first use; one that needs an optional
dependency imports it inside its functions and raises :class:`CommandError` naming the extra
when it is missing. No module here imports IPython.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TextIO

from osc_live.commands.tokens import GrammarError, Token
from osc_live.commands.values import Resolver

__all__ = [
    "BUILTIN",
    "CliIO",
    "CliUsage",
    "CommandError",
    "ParseContext",
    "Subcommand",
    "for_command",
    "get",
    "magic_names",
    "register",
    "subcommands",
]

#: the subcommand modules of ``osc_live.commands.subcommands``, in help order
BUILTIN: tuple[str, ...] = (
    "connect",
    "send",
    "listen",
    "on",
    "monitor",
    "plot",
    "explain",
    "status",
    "close",
    "help",
    "synth",
    "bridge",
    "record",
    "replay",
    "advertise",
    "discover",
    "query",
    "panel",
)


class CommandError(Exception):
    """A command that cannot run (no target, a network failure...): one line for the user."""


class CliUsage(Exception):
    """A mistake on the ``osc-live`` command line (exit code 2, one line on stderr)."""


@dataclass(frozen=True)
class ParseContext:
    """What parsing needs besides the words.

    ``namespace``: where ``$name`` / ``{{expr}}`` look (the magic: the caller's locals, then
    the user namespace); None for the CLI, which never evaluates anything it reads.
    ``lenient``: shell words (a word that is not a Python literal is a string; ``$`` is
    ordinary). ``float_tag``: ``f`` or ``d`` for Python floats. ``listen_host``: the host of
    ``listen PORT``.
    """

    namespace: Mapping[str, Any] | None = None
    float_tag: str = "f"
    listen_host: str = "127.0.0.1"
    lenient: bool = False

    def resolver(self) -> Resolver:
        """A :class:`Resolver` for this context."""
        return Resolver(self.namespace, dollars=not self.lenient)


@dataclass(frozen=True)
class CliIO:
    """The streams of an ``osc-live`` run (tests pass their own)."""

    out: TextIO
    err: TextIO
    stdin: TextIO


@dataclass(frozen=True)
class Subcommand:
    """One subcommand: its help and its magic and/or CLI faces (see the module docstring).

    ``options``: the ``--options`` of the magic face (name -> allowed values, ``()`` any
    value, None a flag), used by tab completion. ``completes``: what its first positional
    word completes to in a notebook: ``"address"`` (addresses seen or mapped), ``"endpoint"``
    (URL schemes), ``"name"`` (open targets and listeners) or ``"subcommand"``.
    """

    name: str
    summary: str
    usage: str = ""
    command: type | None = None
    parse: Callable[[Sequence[Token], ParseContext], Any] | None = None
    run: Callable[[Any, Any], Any] | None = None
    cli: Callable[[list[str], CliIO], int] | None = None
    cli_usage: tuple[str, ...] = ()
    cli_aliases: tuple[str, ...] = ()
    options: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    completes: str = ""

    @property
    def magic(self) -> bool:
        """True if ``%osc NAME`` exists."""
        return self.parse is not None


_LOCK = threading.Lock()
_EXTRA: dict[str, Subcommand] = {}
#: the loaded table (read-only view) and the subcommand of each command class; rebuilt when
#: ``register`` changes them, read without a lock (a whole new table replaces the old one)
_TABLE: Mapping[str, Subcommand] | None = None
_BY_TYPE: dict[type, Subcommand] = {}


def register(sub: Subcommand) -> None:
    """Add (or replace) a subcommand at run time; built-in ones come from :data:`BUILTIN`."""
    global _TABLE
    with _LOCK:
        _EXTRA[sub.name] = sub
        _TABLE = None


def _load() -> Mapping[str, Subcommand]:
    global _TABLE, _BY_TYPE
    with _LOCK:
        if _TABLE is None:
            table: dict[str, Subcommand] = {}
            for name in BUILTIN:
                module = importlib.import_module(f"osc_live.commands.subcommands.{name}")
                sub = module.SUBCOMMAND
                if sub.name != name:  # pragma: no cover - a mistake in a new module
                    raise RuntimeError(f"module {name!r} defines subcommand {sub.name!r}")
                table[name] = sub
            table.update(_EXTRA)
            _BY_TYPE = {s.command: s for s in table.values() if s.command is not None}
            _TABLE = MappingProxyType(table)
        return _TABLE


def subcommands() -> Mapping[str, Subcommand]:
    """Every subcommand by name, in help order (built-in first, then registered ones);
    a read-only mapping."""
    table = _TABLE
    return table if table is not None else _load()


def get(name: str) -> Subcommand | None:
    """The subcommand called ``name`` (or one of its CLI aliases), None if there is none."""
    subs = subcommands()
    if name in subs:
        return subs[name]
    for sub in subs.values():
        if name in sub.cli_aliases:
            return sub
    return None


def magic_names() -> list[str]:
    """Names of the subcommands ``%osc`` accepts, in help order."""
    return [name for name, sub in subcommands().items() if sub.magic]


def for_command(cmd: Any) -> Subcommand:
    """The subcommand that parsed ``cmd``."""
    subcommands()
    sub = _BY_TYPE.get(type(cmd))
    if sub is not None:
        return sub
    for sub in subcommands().values():
        if sub.command is not None and isinstance(cmd, sub.command):
            return sub
    raise CommandError(f"unsupported command {cmd!r}")


class SubcommandTable(Mapping[str, tuple[str, str]]):
    """``name -> (usage, summary)`` of the magic subcommands (read when used, so subcommands
    registered later appear)."""

    def _table(self) -> dict[str, tuple[str, str]]:
        return {n: (s.usage, s.summary) for n, s in subcommands().items() if s.magic}

    def __getitem__(self, key: str) -> tuple[str, str]:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


def no_more(tokens: Sequence[Token], what: str) -> None:
    """GrammarError if ``tokens`` holds a word beyond what ``what`` takes."""
    if tokens:
        raise GrammarError(f"unexpected {tokens[0].text!r}: {what}", tokens[0].text)
