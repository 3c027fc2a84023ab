"""How the session reaches each endpoint scheme: its ``connect`` and ``listen`` functions.

:data:`LINKS` maps a scheme of :data:`osc_live.endpoints.SCHEMES` to ``"module:connect"`` and
``"module:listen"`` (imported on first use, so an optional transport costs nothing until
used):

* ``connect(session, endpoint, name, mode, *, synth_instance=None) -> Target`` (a subclass of
  :class:`~osc_live.notebook.targets.Target` implementing ``_transmit``, ``close`` and
  ``local_address``; replies go to ``session.dispatcher.call_handlers_for_packet``);
* ``listen(session, endpoint, thread, mode) -> Listener`` (feeding ``session.dispatcher``;
  ``thread`` True means "keep receiving while a cell blocks").

Either may be None for a scheme that cannot connect or listen.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from osc_live.endpoints import SCHEMES

__all__ = ["LINKS", "Link", "connector", "listener"]


@dataclass(frozen=True)
class Link:
    """``"module:function"`` names of a scheme's connect and listen functions."""

    connect: str | None
    listen: str | None


LINKS: dict[str, Link] = {
    "udp": Link("osc_live.notebook.targets:connect_udp", "osc_live.notebook.listeners:listen_udp"),
    "tcp": Link("osc_live.notebook.targets:connect_tcp", "osc_live.notebook.listeners:listen_tcp"),
    "ws": Link("osc_live.notebook.websocket:connect_ws", "osc_live.notebook.websocket:listen_ws"),
}


def _load(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def _link(scheme: str) -> Link:
    link = LINKS.get(scheme)
    if link is None or scheme not in SCHEMES:
        raise ValueError(f"no session link for {scheme}://")
    return link


def connector(scheme: str) -> Callable[..., Any]:
    """The ``connect`` function of ``scheme`` (ValueError if it cannot connect)."""
    spec = _link(scheme).connect
    if spec is None:
        raise ValueError(f"{scheme}:// cannot be a target")
    return _load(spec)


def listener(scheme: str) -> Callable[..., Any]:
    """The ``listen`` function of ``scheme`` (ValueError if it cannot listen)."""
    spec = _link(scheme).listen
    if spec is None:
        raise ValueError(f"{scheme}:// cannot listen")
    return _load(spec)
