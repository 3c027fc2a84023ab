"""The IPython layer: ``%osc`` / ``%%osc`` magics (:mod:`~osc_live.magics.extension`).

Modules: ``grammar`` (the one parser, shared with the ``osc-live`` command), ``commands``
(running parsed commands), ``explain`` (annotated bytes), ``traffic`` and ``views`` (the live
monitor and plot), ``completer``. Only ``extension`` imports IPython, and only when loaded, so
the CLI needs nothing beyond the standard library.
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
