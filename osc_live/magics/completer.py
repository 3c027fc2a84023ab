"""Tab completion for ``%osc``: subcommands, ``@target`` names, addresses, options, URLs."""

from __future__ import annotations

from typing import Any

from osc_live.commands import registry
from osc_live.endpoints import SCHEMES

__all__ = ["candidates", "complete"]


def _known_addresses(session: Any) -> set[str]:
    addresses = set(session.traffic.addresses()) | set(session.mapped)
    synth = session.synth
    if synth is not None:
        addresses |= set(synth.last)
    for source in list(getattr(session, "address_sources", ())):
        try:
            addresses |= {str(a) for a in source(session)}
        except Exception:  # a broken source must not break completion
            continue
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
    names = registry.magic_names()
    if not before and not line.lstrip().startswith("%%"):
        if not word.startswith(("/", "@")):
            return sorted(s for s in names if s.startswith(word))
        before = ["send"]
    sub = registry.subcommands().get(before[0] if before else "send")
    if sub is None:
        return []
    if word.startswith("@"):
        return sorted("@" + n for n in session.targets if ("@" + n).startswith(word))
    if word.startswith("--"):
        return [f"--{o}" for o in sub.options if f"--{o}".startswith(word)]
    if sub.completes == "name":
        found = ["all", *session.targets, *session.listeners, *getattr(session, "resources", {})]
        return sorted(n for n in found if n.startswith(word))
    if sub.completes == "subcommand":
        return sorted(s for s in names if s.startswith(word))
    if sub.completes == "address" and word.startswith("/"):
        after = [w for w in before[1:] if not w.startswith(("@", "--"))]
        if not after:
            return sorted(a for a in _known_addresses(session) if a.startswith(word))
    if sub.completes == "endpoint" and not word:
        urls = [f"{s}://" for s in SCHEMES]
        if sub.name == "connect":
            urls += [f"{s.name}://synth" for s in SCHEMES.values() if s.synth and s.name != "udp"]
        return urls
    return []


def complete(_shell: Any, event: Any) -> list[str]:
    """IPython ``complete_command`` hook: completions relative to IPython's current symbol."""
    from IPython.core.error import TryNext

    from osc_live.notebook.kernel_session import session

    line = event.text_until_cursor if getattr(event, "text_until_cursor", None) else event.line
    full = candidates(line, session())
    if not full:
        raise TryNext
    word = "" if line.endswith((" ", "\t")) else line.split()[-1]
    symbol = event.symbol or ""
    cut = len(word) - len(symbol)
    return [c[cut:] if cut > 0 and c.startswith(word) else c for c in full]
