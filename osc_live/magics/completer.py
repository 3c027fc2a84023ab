"""Tab completion for ``%osc``: subcommands, ``@target`` names, addresses, options."""

from __future__ import annotations

from typing import Any

from osc_live.magics.grammar import SUBCOMMANDS

__all__ = ["candidates", "complete"]

_OPTIONS = {
    "connect": ["--mode"],
    "listen": ["--mode", "--thread"],
    "explain": ["--bundle", "--at", "--tcp"],
    "plot": ["--points"],
}
_ADDRESS_COMMANDS = {"send", "on", "monitor", "plot", "explain"}


def _known_addresses(session: Any) -> set[str]:
    addresses = set(session.traffic.addresses()) | set(session.mapped)
    synth = session.synth
    if synth is not None:
        addresses |= set(synth.last)
    return addresses


def candidates(line: str, session: Any) -> list[str]:
    """Full-word completions for the last word of ``line`` (``%osc ...`` or a cell header)."""
    words = line.split()
    if line.endswith((" ", "\t")) or not words:
        words.append("")
    if words and words[0] in ("%osc", "%%osc", "osc"):
        words = words[1:]
    word = words[-1]
    before = words[:-1]
    if not before and not line.lstrip().startswith("%%"):
        found = [s for s in SUBCOMMANDS if s.startswith(word)]
        if word.startswith(("/", "@")):
            before = ["send"]
        else:
            return sorted(found)
    sub = before[0] if before else "send"
    if word.startswith("@"):
        return sorted("@" + n for n in session.targets if ("@" + n).startswith(word))
    if word.startswith("--"):
        return [o for o in _OPTIONS.get(sub, []) if o.startswith(word)]
    if sub == "close":
        names = ["all", *session.targets, *session.listeners]
        return sorted(n for n in names if n.startswith(word))
    if sub == "help":
        return sorted(s for s in SUBCOMMANDS if s.startswith(word))
    if sub in _ADDRESS_COMMANDS and word.startswith("/"):
        after = [w for w in before[1:] if not w.startswith(("@", "--"))]
        if not after:
            return sorted(a for a in _known_addresses(session) if a.startswith(word))
    if sub in ("connect", "listen") and not word:
        return ["udp://", "tcp://"] + (["tcp://synth"] if sub == "connect" else [])
    return []


def complete(_shell: Any, event: Any) -> list[str]:
    """IPython ``complete_command`` hook: completions relative to IPython's current symbol."""
    from IPython.core.error import TryNext

    from osc_live.live import session

    line = event.text_until_cursor if getattr(event, "text_until_cursor", None) else event.line
    full = candidates(line, session())
    if not full:
        raise TryNext
    word = "" if line.endswith((" ", "\t")) else line.split()[-1]
    symbol = event.symbol or ""
    cut = len(word) - len(symbol)
    return [c[cut:] if cut > 0 and c.startswith(word) else c for c in full]
