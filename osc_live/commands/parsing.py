"""The one parser of ``%osc`` lines, ``%%osc`` cells and the ``osc-live`` words.

Pure functions, no I/O: a line of text (plus, in a notebook, the user namespace for ``$name``
and ``{{expr}}``) becomes a command object of one of the subcommand modules. Every mistake
raises :class:`GrammarError`, whose message names the bad token in one line; the magic turns
it into IPython's ``UsageError`` and the CLI into exit code 2.

Grammar (``%osc help`` is generated from the subcommand modules)::

    line     := subcommand words...  |  [@target] /address arg*   (short for send)
    message  := /address arg*
    arg      := python-literal | bare-word | tag ':' value | 'T' | 'F' | 'N' | 'I'
              | '$' name | '{{' expr '}}' | '*$' name | '*{{' expr '}}'
    tag      := i f d h s S c t b m r

``$name`` and ``{{expr}}`` also work inside unquoted words, addresses and URLs (the value as
text); ``$name`` ends at the first non-identifier character; ``$$`` is a literal ``$``. In the
``osc-live`` command's shell words (``lenient``) a ``$`` is an ordinary character, and
without a namespace nothing is ever evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from osc_live.commands import registry
from osc_live.commands.options import split_options, target_name, time_option
from osc_live.commands.registry import ParseContext
from osc_live.commands.tokens import GrammarError, Token, strip_semicolon, tokenize
from osc_live.commands.values import MessageSpec, parse_message

__all__ = [
    "ARGUMENTS_HELP",
    "SUBCOMMANDS",
    "Cell",
    "CellHeader",
    "parse_cell",
    "parse_cell_header",
    "parse_command",
    "parse_tokens",
    "usage",
]

#: name -> (usage, summary) of every ``%osc`` subcommand, in help order
SUBCOMMANDS = registry.SubcommandTable()

ARGUMENTS_HELP = """\
Arguments: Python literals (1, 2.5, "two words", True, None, [1, 2], b'\\x00'), bare words are
strings (freq), explicit tags i:3 f:1 d:0.1 h:5 s:text S:symbol c:a t:+0.5 b:00ff m:[0,144,60,100]
r:0xff0000ff, bare T F N I (true, false, nil, infinitum), $name and {{expr}} from the caller's
locals then the user namespace, also inside words (/track/$i/vol, udp://127.0.0.1:$port; $$ is
a literal $), *$name / *{{expr}} to spread a sequence into several arguments. End a line with ;
to hide its output.
%%osc [@target] [--bundle | --at +seconds]: one message per line (# comments), sent one by one,
or as one bundle (immediately, or timetagged seconds from now)."""


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


def parse_command(
    line: str,
    namespace: Mapping[str, Any] | None = None,
    *,
    float_tag: str = "f",
    listen_host: str = "127.0.0.1",
) -> Any:
    """Parse one ``%osc`` line into a command object."""
    return parse_tokens(tokenize(line), namespace, float_tag=float_tag, listen_host=listen_host)


def parse_tokens(
    tokens: Sequence[Token],
    namespace: Mapping[str, Any] | None = None,
    *,
    float_tag: str = "f",
    listen_host: str = "127.0.0.1",
    lenient: bool = False,
) -> Any:
    """Parse tokens (a tokenized line, or the CLI's argv one word per token)."""
    ctx = ParseContext(namespace, float_tag, listen_host, lenient)
    if not tokens:
        return parse_subcommand("help", [], ctx)
    head = tokens[0].text
    if head.startswith(("/", "@")):
        return parse_subcommand("send", tokens, ctx)  # "%osc /x 1": short for send
    return parse_subcommand(head, tokens[1:], ctx)


def parse_subcommand(name: str, tokens: Sequence[Token], ctx: ParseContext) -> Any:
    """The words after subcommand ``name`` to its command object."""
    sub = registry.subcommands().get(name)
    if sub is None or sub.parse is None:
        names = registry.magic_names()
        close = [s for s in names if s.startswith(name[:2])]
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise GrammarError(f"unknown subcommand {name!r}{hint}; try %osc help", name)
    return sub.parse(list(tokens), ctx)


def parse_cell_header(line: str) -> CellHeader:
    """The ``%%osc`` line: ``[@target] [--bundle | --at +seconds]``."""
    return _cell_header(tokenize(line))


def _cell_header(tokens: Sequence[Token]) -> CellHeader:
    pos, opts = split_options(tokens, {"bundle": None, "at": ()})
    target = None
    for tok in pos:
        if tok.text.startswith("@") and target is None:
            target = target_name(tok)
        else:
            raise GrammarError(
                f"unexpected {tok.text!r}: %%osc [@target] [--bundle|--at +s]", tok.text
            )
    at = time_option(opts)
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
    ``namespace`` None (messages piped to ``osc-live send URL -``): nothing is evaluated.
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
    table = dict(SUBCOMMANDS)
    if topic is not None:
        use, summary = table[topic]
        return f"{prefix}{use}\n    {summary}"
    lines = [f"{prefix}{use}\n    {summary}" for use, summary in table.values()]
    return "\n".join(lines) + "\n\n" + ARGUMENTS_HELP
