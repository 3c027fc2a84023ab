"""``osc_live.synth``: the documented home of :class:`VirtualSynth` (now in
:mod:`osc_live.notebook.synth`)."""

from __future__ import annotations

from osc_live.notebook.synth import Received, VirtualSynth

__all__ = ["Received", "VirtualSynth"]
