"""Real third-party OSC peers for the interop tests: liblo's oscdump/oscsend and SuperCollider.

Everything here uses the standard library only, so a broken ``osc_live`` can never break the
fixtures that are meant to judge it.

* :mod:`tests.peers.osc` — a tiny OSC encoder/decoder for readiness probes.
* :mod:`tests.peers.synthdef` — writes the ``osclive_sine`` SynthDef (no sclang needed).
* :mod:`tests.peers.process` — bounded, PID-only process control, free ports, binary checks.
* :mod:`tests.peers.liblo` — :class:`Oscdump` (UDP or TCP capture) and :func:`oscsend`.
* :mod:`tests.peers.scsynth` — :class:`Scsynth` on a private ``jackd -d dummy`` server.
* :mod:`tests.peers.fixtures` — the pytest fixtures (``scsynth``, ``oscdump_udp``, ...).

See ``docs/peers.md`` for the recipes and the quirks of each program.
"""

from tests.peers.liblo import Oscdump, oscsend
from tests.peers.process import PeerError, free_port, require_binaries
from tests.peers.scsynth import Scsynth

__all__ = ["Oscdump", "PeerError", "Scsynth", "free_port", "oscsend", "require_binaries"]
