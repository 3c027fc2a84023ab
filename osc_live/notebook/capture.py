"""Recording, replay and the WebSocket bridge in a notebook session (``%osc record``,
``%osc replay``, ``%osc bridge``).

Each is kept as a session resource (``%osc status`` shows its counters, ``%osc close NAME`` or
``close all`` ends it):

- :class:`SessionRecording` writes every raw packet the session receives (listeners, targets'
  replies, the bridge's clients; or only one listener's) -- and, with ``sent=True``, every
  packet it sends -- to a :class:`~osc_live.recording.Recorder`;
- :class:`SessionReplay` runs a :class:`~osc_live.replay.Replayer` on the session loop, sending
  through a target: replayed packets show in the monitor as sent;
- :class:`SessionBridge` runs an :class:`~osc_live.bridge.OscBridge` on the session loop; its
  clients' packets show in the monitor as received (and are recorded), replies as sent.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING, Any

from osc_live.errors import OscError
from osc_live.notebook.targets import format_peer
from osc_live.osc_packet import parse_packet
from osc_live.recording import Recorder
from osc_live.replay import Replayer

if TYPE_CHECKING:
    from osc_live.notebook.kernel_session import OscSession
    from osc_live.notebook.targets import Target
    from osc_live.osc_bundle import OscBundle
    from osc_live.osc_message import OscMessage

__all__ = ["SessionBridge", "SessionRecording", "SessionReplay"]


class SessionRecording:
    """A recording of the session's traffic (see the module docstring)."""

    def __init__(
        self,
        session: OscSession,
        path: str | os.PathLike[str],
        *,
        pattern: str | None = None,
        sent: bool = False,
        listener: str | None = None,
    ) -> None:
        """Record what ``session`` receives (only through ``listener``, if named)."""
        self.session = session
        self.listener = None if listener is None else session.listeners.get(listener)
        if listener is not None and self.listener is None:
            known = ", ".join(session.listeners) or "none"
            raise LookupError(f"no listener named {listener!r} (listening: {known})")
        directions = ("in", "out") if sent else ("in",)
        source = f"osc_live listener {listener}" if listener else "osc_live session"
        self.recorder = Recorder(path, pattern=pattern, directions=directions, source=source)
        self._hooks = self.listener.packet_hooks if self.listener else session.packet_hooks
        self._hooks_added = True
        self._hooks.append(self._received)
        if sent:
            session.send_hooks.append(self._sent)

    def _received(self, data: bytes, client_address: Any) -> None:
        self.recorder.record(data, format_peer(client_address), "in")

    def _sent(self, content: OscMessage | OscBundle, target: Target) -> None:
        self.recorder.record(content.dgram, target.name, "out")

    def close(self) -> None:
        """Stop recording: the end line is written, the hooks removed."""
        if self._hooks_added:
            self._hooks_added = False
            with contextlib.suppress(ValueError):
                self._hooks.remove(self._received)
            with contextlib.suppress(ValueError):
                self.session.send_hooks.remove(self._sent)
        self.recorder.close()

    def __repr__(self) -> str:
        r = self.recorder
        state = "stopped" if r.closed else "recording"
        where = f" from {self.listener.name}" if self.listener is not None else ""
        return (
            f"<recording {r.path}{where} ({state}): {r.packets} packets, {r.filtered} filtered,"
            f" {r.dropped} dropped, {r.elapsed_ns() / 1e9:.1f} s>"
        )


class SessionReplay:
    """A replay into a session target, on the session loop."""

    def __init__(self, session: OscSession, replayer: Replayer, target: Target) -> None:
        """Send ``replayer``'s packets through ``target``, starting now on the session loop."""
        self.session = session
        self.target = target
        self.replayer = replayer
        replayer.send = self._send
        session.runner.call_soon(replayer.start)

    def _send(self, data: bytes) -> None:
        self.target.send(parse_packet(data))  # through the target: counted, monitored

    @property
    def running(self) -> bool:
        """True while packets are still being sent."""
        return not self.replayer.finished

    def close(self) -> None:
        """Stop the replay."""
        self.replayer.stop()

    def __repr__(self) -> str:
        r, stats = self.replayer, self.replayer.stats
        state = "running" if self.running else "done"
        late = stats.lateness_ms()
        return (
            f"<replay {os.path.basename(r.path)} -> {self.target.name} ({state}, {r.speed:g}x"
            f"{', loop' if r.loop else ''}): {stats.sent}/{r.info.packets} sent,"
            f" {stats.loops} loops, late p99 {late['p99']:.2f} ms>"
        )


class SessionBridge:
    """An :class:`~osc_live.bridge.OscBridge` on the session loop, seen by the monitor."""

    def __init__(self, session: OscSession, listen: str, target: str, **options: Any) -> None:
        from osc_live.bridge import OscBridge

        self.session = session
        self.bridge = OscBridge(listen, target, on_packet=self._observe, **options)
        session.runner.run(self.bridge.start())

    def _observe(self, direction: str, peer: str, data: bytes) -> None:
        session = self.session
        try:
            packet = parse_packet(data)
        except OscError:
            return
        if direction == "in":
            session._packet_seen(data, peer)
            session._tap(list(_messages(packet)), peer)
        else:
            for message in _messages(packet):
                session.traffic.record(
                    "sent", message.address, peer, message.type_tags, message.params, time.time()
                )
                session._mark_dirty(message.address, message.params, "sent")

    def close(self) -> None:
        """Stop the bridge (its clients are disconnected)."""
        runner = self.session._runner
        if runner is None or runner.loop.is_closed():
            return
        with contextlib.suppress(TimeoutError, RuntimeError):
            runner.run(self.bridge.stop(), timeout=5)

    def __repr__(self) -> str:
        s = self.bridge.stats
        return (
            f"<bridge {self.bridge.url} <-> {self.bridge.target}: {len(self.bridge.clients)}"
            f" clients, {s.to_target} to target, {s.from_target} back, {s.refused} refused,"
            f" {s.malformed + s.text_frames + s.oversized + s.protocol_errors} cut/dropped,"
            f" {s.target_errors} target errors>"
        )


def _messages(packet: OscMessage | OscBundle) -> list[OscMessage]:
    from osc_live.osc_message import OscMessage

    if isinstance(packet, OscMessage):
        return [packet]
    out: list[OscMessage] = []
    for content in packet:
        out.extend(_messages(content))
    return out
