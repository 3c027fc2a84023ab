"""The virtual synth's namespace: its commands, and every address it has received.

Used by ``%osc advertise --synth`` and ``osc-live synth --oscquery PORT``: the namespace is
kept up to date from the synth's ``on_message`` callback (the one installed before is still
called), so LISTEN clients receive what the synth receives.
"""

from __future__ import annotations

from typing import Any

from osc_live.osc_message import infer_tag
from osc_live.oscquery.namespace import Namespace

__all__ = ["COMMANDS", "MAX_RECEIVED", "SynthNamespace", "SynthService"]

#: The synth's commands: path -> (TYPE or None for variadic, DESCRIPTION).
COMMANDS: dict[str, tuple[str | None, str]] = {
    "/ping": (None, "answers /pong with the same arguments"),
    "/status": (None, "answers /status.reply in the scsynth layout"),
    "/get": ("s", "answers /get.reply /address followed by the last values received there"),
    "/sync": ("i", "answers /synced id"),
    "/notify": (None, "answers /done /notify 0"),
    "/s_new": (None, "creates a node: name id [add-action target] control value ..."),
    "/n_set": (None, "sets controls of a node: id control value ..."),
    "/s_get": (None, "answers /n_set id control value ... for the controls asked"),
    "/n_free": (None, "removes nodes: id ..."),
}

#: Most received (non-command) addresses the namespace lists.
MAX_RECEIVED = 1000


def _tags(args: Any) -> str | None:
    try:
        return "".join(infer_tag(a) for a in args)
    except ValueError:
        return None


class SynthNamespace:
    """A :class:`Namespace` that follows a running :class:`~osc_live.synth.VirtualSynth`."""

    def __init__(self, synth: Any, namespace: Namespace | None = None) -> None:
        self.synth = synth
        self.namespace = namespace or Namespace(description="osc_live virtual synth")
        self.dropped = 0
        for path, (kind, text) in COMMANDS.items():
            self.namespace.add(path, kind, access=2 if kind else None, description=text)
        self._received: set[str] = set()
        for address, args in list(synth.last.items()):
            self._saw(address, tuple(args), _tags(args))
        self._previous = synth.on_message
        synth.on_message = self._on_message

    def _on_message(self, item: Any) -> None:
        previous = self._previous
        if previous is not None:
            previous(item)
        self._saw(item.address, tuple(item.args), item.type_tags)

    def _saw(self, address: str, args: tuple[Any, ...], tags: str | None) -> None:
        if address in COMMANDS:
            self.namespace.set_value(address, args, type=tags or None)
            return
        if address not in self._received:
            if len(self._received) >= MAX_RECEIVED:
                self.dropped += 1
                return
            try:
                self.namespace.add(address, tags or None, description="last values received")
            except ValueError:  # not a plain OSC address (a pattern, an empty part)
                return
            self._received.add(address)
        self.namespace.set_value(address, args, type=tags or None)

    def close(self) -> None:
        """Stop following the synth (its previous ``on_message`` is put back)."""
        if self.synth.on_message == self._on_message:
            self.synth.on_message = self._previous


class SynthService:
    """A running synth served over OSCQuery (what ``osc-live synth --oscquery PORT`` runs):
    its namespace, the server (HOST_INFO: the synth's UDP port) and, unless ``announce`` is
    False, the zeroconf announcement (``_oscjson._tcp``, ``_osc._udp``, ``_osc._tcp``)."""

    def __init__(
        self,
        synth: Any,
        http_port: int = 0,
        *,
        name: str | None = None,
        lan: bool = False,
        announce: bool = True,
    ) -> None:
        from osc_live.oscquery.mdns import Advertisement, default_name
        from osc_live.oscquery.server import OscQueryServer

        self.follower = SynthNamespace(synth)
        label = name or default_name()
        host, port = synth.udp_address
        self.server = OscQueryServer(
            self.follower.namespace,
            name=label,
            host="0.0.0.0" if lan else "127.0.0.1",
            port=http_port,
            osc_port=port,
            osc_ip=None if host in ("127.0.0.1", "0.0.0.0") else host,
        )
        self.announcement: Any = None
        try:
            self.server.start()
            if announce:
                self.announcement = Advertisement(label, lan=lan)
        except BaseException:
            self.close()
            raise
        self.name = label
        self.synth = synth

    def announce(self) -> str:
        """Register over zeroconf (about 1.5 s); returns the instance name it got."""
        ad = self.announcement
        if ad is None:
            return self.name
        ad.http_port = self.server.port
        ad.osc_port = self.synth.udp_address[1]
        ad.start()
        return str(ad.name)

    def close(self) -> None:
        """Withdraw, stop the server, stop following the synth (the synth keeps running)."""
        if self.announcement is not None:
            self.announcement.close()
        self.server.close()
        self.follower.close()
