"""Words of a command line: :func:`tokenize`, :class:`Token`, :class:`GrammarError`.

A ``%osc`` line is split on blanks outside quotes, brackets and ``{{...}}``; a word starting
with ``#`` starts a comment. The ``osc-live`` command skips this step: each shell word is one
token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["GrammarError", "Token", "strip_semicolon", "tokenize", "words_to_tokens"]


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


def words_to_tokens(words: Sequence[str]) -> list[Token]:
    """Shell words (the ``osc-live`` command's argv) as tokens, one word each."""
    return [Token(word, i) for i, word in enumerate(words)]


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
