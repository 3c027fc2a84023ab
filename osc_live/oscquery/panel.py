"""A panel of bound controls built from a remote OSCQuery namespace ("a panel for free").

::

    box = remote_panel("http://127.0.0.1:5678/", "/fx")   # what %osc panel URL /fx shows
    box.remote.follower                                    # the LISTEN client (None without)
    box.remote.close()

One control per OSC method under the path, made with :mod:`osc_live.widgets`:

=====================================  ==============================================
TYPE and RANGE                         control
=====================================  ==============================================
``f d i h`` with MIN and MAX           slider (``i``/``h`` with 0..1: a toggle)
``f d i h`` without range              number field
any TYPE with RANGE VALS               dropdown
``T`` / ``F``                          toggle sending True/False
``s S``                                text field (sends on Enter)
no TYPE, ``N``, ``I``                  button
anything else                          a label showing the value (not sent)
=====================================  ==============================================

Controls send to the remote's OSC server as its HOST_INFO says (``OSC_IP``/``OSC_PORT``/
``OSC_TRANSPORT``, defaulting to the HTTP host and port, UDP) through a session target named
after the remote (it becomes the default target, as ``%osc connect`` does); the panel itself
is the session resource ``NAME-panel`` (``%osc close NAME-panel`` stops following). Read-only nodes
(ACCESS 1) are shown disabled. When the server announces LISTEN, the panel follows it: every
readable node is LISTENed and remote changes move the controls without being sent back.
"""

from __future__ import annotations

import contextlib
import math
import re
import weakref
from typing import Any

from osc_live._net import format_address
from osc_live.oscquery.client import DEFAULT_TIMEOUT, Remote, describe
from osc_live.oscquery.listen import ListenClient
from osc_live.oscquery.model import Node, Range

__all__ = ["RemotePanel", "is_remote_control", "panels", "remote_panel"]

#: the bindings of remote panels: mirrors of another namespace, not the kernel's own addresses
_REMOTE: weakref.WeakSet[Any] = weakref.WeakSet()


def is_remote_control(binding: Any) -> bool:
    """True for the binding of a remote panel's control (the kernel namespace leaves it out:
    it mirrors the remote's address, which the kernel does not receive)."""
    return binding in _REMOTE


class RemotePanel:
    """What a remote panel holds: the remote as read, the target, the follower, the controls."""

    def __init__(
        self,
        name: str,
        session: Any,
        remote: Remote,
        target: Any,
        dispatcher: Any,
        follower: ListenClient | None,
    ) -> None:
        self.name = name
        self.session = session
        self.remote = remote
        self.target = target
        self.dispatcher = dispatcher
        self.follower = follower
        self.controls: dict[str, Any] = {}
        self.closed = False

    def close(self) -> None:
        """Stop following the remote and unbind the controls (they stay on screen, inert)."""
        if self.closed:
            return
        self.closed = True
        if self.follower is not None:
            self.follower.close()
        for control in self.controls.values():
            binding = getattr(control, "osc", None)
            if binding is not None:
                binding.close()
        if self.session.resources.get(self.name) is self:  # closed directly: leave the session
            with contextlib.suppress(LookupError):
                self.session.close(self.name)

    def __repr__(self) -> str:
        following = "LISTEN" if self.follower is not None else "not following"
        return f"<RemotePanel {self.remote.url} controls={len(self.controls)} {following}>"


def panels(session: Any = None) -> list[RemotePanel]:
    """The open remote panels of ``session`` (default: the kernel's)."""
    if session is None:
        from osc_live.notebook.kernel_session import session as current

        session = current()
    return [r for r in dict(session.resources).values() if isinstance(r, RemotePanel)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:40] or "remote"


def remote_panel(
    url: str,
    path: str | None = None,
    *,
    listen: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    name: str | None = None,
    session: Any = None,
) -> Any:
    """Read ``url`` (HOST_INFO and the tree at ``path``) and return a panel of bound controls
    (an ipywidgets ``VBox``, class ``osc-panel osc-remote``; ``box.remote`` is its
    :class:`RemotePanel`). Raises :class:`~osc_live.oscquery.client.OscQueryError`."""
    from osc_live import widgets
    from osc_live.dispatcher import Dispatcher

    if session is None:
        from osc_live.notebook.kernel_session import session as current

        session = current()
    remote = describe(url, path, timeout=timeout)
    host, port, transport = remote.osc_address
    if host in ("0.0.0.0", "::", ""):
        host = remote.url.host
    label = remote.host_info.name or format_address(remote.url.host, remote.url.port)
    target_name = name or _slug(label)
    target = session.connect(f"{transport}://{format_address(host, port)}", target_name)
    dispatcher = Dispatcher()
    made: dict[str, Any] = {}
    follow: list[str] = []
    for node in remote.root.walk():
        if not node.is_method or (node.contents and node.type is None):
            continue
        control = _control(widgets, node, target, dispatcher)
        made[node.path] = control
        if getattr(control, "osc", None) is not None:
            _REMOTE.add(control.osc)
        if node.readable and node.type and getattr(control, "osc", None) is not None:
            follow.append(node.path)
    follower = None
    if listen and remote.host_info.listen and follow:
        peer = (remote.url.host, remote.url.port)
        follower = ListenClient(
            remote.ws_url,
            follow,
            lambda data: dispatcher.call_handlers_for_packet(data, peer),
            loop=session.loop,
        )
    holder = RemotePanel(f"{target_name}-panel", session, remote, target, dispatcher, follower)
    holder.controls = made
    box = widgets.panel(made, title=f"{label} — {remote.url}")
    box.add_class("osc-remote")
    box.remote = holder
    session.add_resource(holder.name, holder)
    if follower is not None:
        follower.start()
    return box


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return default
    return float(value)


def _control(widgets: Any, node: Node, target: Any, dispatcher: Any) -> Any:
    """One bound control for ``node`` (see the module table)."""
    import ipywidgets as W

    tag = node.type or ""
    first = node.value[0] if node.value else None
    rng = node.range[0] if node.range and isinstance(node.range[0], Range) else None
    label = node.description or node.name
    common: dict[str, Any] = {"target": target, "dispatcher": dispatcher}
    control: Any
    if tag in ("", "N", "I"):
        from osc_live.parsing.osc_types import Infinitum

        payload = {"": (), "N": (None,), "I": (Infinitum(),)}[tag]
        control = widgets.button(node.path, *payload, target=target, description=label)
    elif tag in ("T", "F"):
        control = widgets.toggle(
            node.path, bool(first), on=True, off=False, description=label, **common
        )
    elif rng is not None and rng.vals:
        options = list(rng.vals)
        value = first if first in options else options[0]
        widget = W.Dropdown(options=options, value=value, description=label)
        control = widgets.bind(widget, node.path, type_tag=tag if len(tag) == 1 else None, **common)
    elif tag in ("f", "d", "i", "h") and rng is not None and rng.bounded:
        lo, hi = rng.min, rng.max
        if tag in "ih" and (lo, hi) == (0, 1):
            control = widgets.toggle(node.path, bool(first), description=label, **common)
        else:
            if tag in "ih":
                lo, hi = int(lo), int(hi)
            value = min(max(_number(first, lo), lo), hi)
            value = int(value) if tag in "ih" else value
            # a finer grid than a hand-made slider's (1/100): the remote's values stay close
            step = None if tag in "ih" else (hi - lo) / 1000
            control = widgets.slider(
                node.path, lo, hi, step, value=value, type_tag=tag, description=label, **common
            )
    elif tag in ("f", "d"):
        widget = W.FloatText(value=_number(first, 0.0), description=label)
        control = widgets.bind(widget, node.path, type_tag=tag, **common)
    elif tag in ("i", "h"):
        widget = W.IntText(value=int(_number(first, 0)), description=label)
        control = widgets.bind(widget, node.path, type_tag=tag, **common)
    elif tag in ("s", "S"):
        widget = W.Text(value="" if first is None else str(first), description=label)
        widget.continuous_update = False
        control = widgets.bind(widget, node.path, type_tag=tag, **common)
    else:
        control = W.Label(f"{label}: {tag} {node.value if node.value is not None else ''}")
    if node.access == 1 and hasattr(control, "disabled"):
        control.disabled = True
    return control
