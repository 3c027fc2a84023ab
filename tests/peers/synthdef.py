"""Write the ``osclive_sine`` SuperCollider SynthDef without sclang.

Debian's ``supercollider-server`` ships neither compiled SynthDefs nor sclang, so the interop
tests build one from the documented *Synth Definition File Format* (``SCgf`` version 2). The graph
is the equivalent of::

    SynthDef(\\osclive_sine, { |freq = 440, amp = 0.1|
        Out.ar(0, SinOsc.ar(freq) * amp);
        Out.kr(0, freq);   // the running graph mirrors freq on control bus 0 (/c_get 0)
    })

``synthdef_bytes()`` is the blob for ``/d_recv``; ``write_synthdef(directory)`` writes
``<name>.scsyndef`` for ``SC_SYNTHDEF_PATH`` (scsynth loads it at boot).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

# Calculation rates of UGens and their outputs.
RATE_SCALAR, RATE_CONTROL, RATE_AUDIO = 0, 1, 2
# BinaryOpUGen's special index for multiplication.
OP_MUL = 2
# An input that reads constant number ``n`` is written as (-1, n).
CONSTANT = -1


def _pstring(text: str) -> bytes:
    """A Pascal string: one length byte, then ASCII."""
    raw = text.encode("ascii")
    if len(raw) > 255:
        raise ValueError(f"name too long for a SynthDef pstring: {text!r}")
    return bytes([len(raw)]) + raw


@dataclass
class UGen:
    """One unit generator of the graph: inputs are (ugen index, output index) pairs."""

    name: str
    rate: int
    inputs: list[tuple[int, int]] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    special: int = 0

    def encode(self) -> bytes:
        out = bytearray(_pstring(self.name))
        out += struct.pack(">biih", self.rate, len(self.inputs), len(self.outputs), self.special)
        for source, index in self.inputs:
            out += struct.pack(">ii", source, index)
        out += bytes(self.outputs)
        return bytes(out)


def synthdef_bytes(name: str = "osclive_sine", freq: float = 440.0, amp: float = 0.1) -> bytes:
    """The bytes of an ``SCgf`` v2 file holding the single definition ``name``."""
    constants = [0.0]
    controls = [("freq", freq), ("amp", amp)]
    zero = (CONSTANT, 0)
    graph = [
        UGen("Control", RATE_CONTROL, [], [RATE_CONTROL, RATE_CONTROL]),  # 0: freq, amp
        UGen("SinOsc", RATE_AUDIO, [(0, 0), zero], [RATE_AUDIO]),  # 1: SinOsc.ar(freq, 0)
        UGen("BinaryOpUGen", RATE_AUDIO, [(1, 0), (0, 1)], [RATE_AUDIO], OP_MUL),  # 2: * amp
        UGen("Out", RATE_AUDIO, [zero, (2, 0)]),  # 3: Out.ar(0, sig)
        UGen("Out", RATE_CONTROL, [zero, (0, 0)]),  # 4: Out.kr(0, freq)
    ]
    body = bytearray(_pstring(name))
    body += struct.pack(">i", len(constants))
    body += b"".join(struct.pack(">f", value) for value in constants)
    body += struct.pack(">i", len(controls))
    body += b"".join(struct.pack(">f", default) for _, default in controls)
    body += struct.pack(">i", len(controls))
    for index, (control_name, _) in enumerate(controls):
        body += _pstring(control_name) + struct.pack(">i", index)
    body += struct.pack(">i", len(graph))
    body += b"".join(ugen.encode() for ugen in graph)
    body += struct.pack(">h", 0)  # no variants
    return b"SCgf" + struct.pack(">ih", 2, 1) + bytes(body)


def write_synthdef(directory: str | Path, name: str = "osclive_sine") -> Path:
    """Write ``directory/<name>.scsyndef`` and return its path."""
    path = Path(directory) / f"{name}.scsyndef"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(synthdef_bytes(name))
    return path
