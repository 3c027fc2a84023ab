"""The IPython layer: ``%osc`` / ``%%osc`` magics (:mod:`~osc_live.magics.extension`).

IPython glue only: ``extension`` (the magics, ``%config OscLive``, load/unload) and
``completer``. What the magics do is in :mod:`osc_live.commands` (shared with the ``osc-live``
command), the session in :mod:`osc_live.notebook`; ``grammar`` is a compatibility alias of the
parser. Only ``extension`` imports IPython and traitlets, and only when loaded.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OscLive", "OscMagics", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext osc_live``: register the magics, ``%config OscLive`` and completion."""
    from osc_live.magics.extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext osc_live``: close every socket, task and thread osc_live opened."""
    from osc_live.magics.extension import unload_ipython_extension as unload

    unload(ipython)


def __getattr__(name: str) -> Any:
    if name in ("OscLive", "OscMagics"):
        from osc_live.magics import extension

        return getattr(extension, name)
    raise AttributeError(f"module 'osc_live.magics' has no attribute {name!r}")
