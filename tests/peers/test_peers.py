"""Self-tests of the peer helpers that need no peer program."""

from __future__ import annotations

import struct

import pytest

from tests.peers import osc
from tests.peers.process import REQUIRE_ENV, free_port, port_is_bound, require_binaries
from tests.peers.synthdef import synthdef_bytes


def test_missing_binary_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="osclive-no-such-program"):
        require_binaries("osclive-no-such-program")


def test_missing_binary_fails_when_peers_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="osclive-no-such-program"):
        require_binaries("osclive-no-such-program")


def test_present_binary_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    require_binaries("sh")


def test_free_port_is_free_and_detected_once_bound() -> None:
    import socket

    port = free_port()
    assert not port_is_bound("udp", port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))
        assert port_is_bound("udp", port)


def test_probe_codec_roundtrip() -> None:
    data = osc.encode("/a", [1, 2.5, "hi", b"\x01", True, None])
    assert osc.decode(data) == [("/a", [1, 2.5, "hi", b"\x01", True, None])]
    bundle = b"#bundle\0" + b"\0" * 7 + b"\1" + struct.pack(">i", len(data)) + data
    assert osc.decode(bundle) == [("/a", [1, 2.5, "hi", b"\x01", True, None])]


def test_synthdef_layout() -> None:
    data = synthdef_bytes("osclive_sine")
    assert data[:4] == b"SCgf"
    assert struct.unpack(">ih", data[4:10]) == (2, 1)
    assert data[10] == len("osclive_sine") and data[11:23] == b"osclive_sine"
    for name in (b"freq", b"amp", b"Control", b"SinOsc", b"BinaryOpUGen", b"Out"):
        assert name in data
    assert synthdef_bytes("other")[11:16] == b"other"


def test_oscdump_on_a_taken_port_moves_to_a_free_one() -> None:
    import socket

    from tests.peers.liblo import Oscdump

    require_binaries("oscdump")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))  # oscdump then cannot bind 0.0.0.0 on that port
        dump = Oscdump("udp")
        dump.port = busy.getsockname()[1]  # as if someone took our free port meanwhile
        with dump:
            assert dump.port != busy.getsockname()[1]
            assert port_is_bound("udp", dump.port)
