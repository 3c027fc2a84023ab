"""``osc-live``: send, listen, explain and a virtual synth from a terminal.

Each subcommand is a module of :mod:`osc_live.commands.subcommands` with a ``cli`` face; the
words after it go through the same parser as ``%osc`` (one shell word per token; a word that
is not a Python literal is a string, since the shell already removed the quotes). Nothing read
from the command line or a pipe is ever evaluated (``{{expr}}`` is a usage error here).
Exit codes: 0 success, 1 network error, a command that failed or nothing received in time,
2 usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from osc_live.commands import registry
from osc_live.commands.registry import CliIO, CliUsage, CommandError
from osc_live.commands.tokens import GrammarError
from osc_live.endpoints import SCHEMES

__all__ = ["main", "usage"]


def _urls() -> str:
    schemes = ", ".join(f"{name}://host:port" for name in SCHEMES)
    return (
        f"URL: {schemes}, host:port or PORT (UDP on 127.0.0.1);\n"
        "     IPv6 hosts in brackets: udp://[::1]:9000.\n"
    )


def usage() -> str:
    """``osc-live --help``, generated from the subcommand modules."""
    lines: list[str] = []
    for sub in registry.subcommands().values():
        for text in sub.cli_usage:
            lead = "usage: " if not lines else "       "
            lines.append(f"{lead}osc-live {text}")
    return "\n".join(lines) + "\n" + _urls()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``osc-live`` console script; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    io = CliIO(sys.stdout, sys.stderr, sys.stdin)
    if not words or words[0] in ("help", "-h", "--help"):
        io.out.write(usage())
        return 0 if words else 2
    name, rest = words[0], words[1:]
    try:
        sub = registry.get(name)
        if sub is None or sub.cli is None:
            raise CliUsage(f"unknown command {name!r}")
        return sub.cli(rest, io)
    except (CliUsage, GrammarError) as exc:  # GrammarError: a shared grammar helper's word
        io.err.write(f"osc-live: error: {exc}\n")
        return 2
    except CommandError as exc:  # a command that could not be done (a server not read...)
        io.err.write(f"osc-live: error: {exc}\n")
        return 1
    except (OSError, TimeoutError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        io.err.write(f"osc-live: network error: {text}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
