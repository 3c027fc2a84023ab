"""The osc-live command in a subprocess, against real receivers and senders."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.parsing.ntp import ntp_to_unix
from osc_live.synth import VirtualSynth
from osc_live.udp_client import SimpleUDPClient

CLI = [sys.executable, "-c", "import sys; from osc_live.cli import main; sys.exit(main())"]
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def run(*args: str, stdin: str = "", timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, timeout=timeout, env=ENV
    )


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def test_send_udp(udp: socket.socket) -> None:
    port = udp.getsockname()[1]
    result = run("send", str(port), "/x", "1", "2.5", "two words", "[1, 2]", "i:3", "T")
    assert result.returncode == 0, result.stderr
    message = OscMessage(udp.recv(65536))
    assert message.address == "/x"
    assert message.type_tags == "ifs[ii]iT"
    assert message.params[:3] == [1, 2.5, "two words"]


def test_send_typed_timetag_arguments(udp: socket.socket) -> None:
    """README's type tags as a user types them: ``t:+0.5`` is half a second from now (it was
    refused: "outside the NTP timetag range"), ``t:1`` the raw NTP value 1 (immediately)."""
    port = udp.getsockname()[1]
    result = run("send", str(port), "/t", "t:+0.5", "t:1", "i:3", "h:5", "d:0.1", "c:a", "S:sym")
    assert result.returncode == 0, result.stderr
    message = OscMessage(udp.recv(65536))
    assert message.type_tags == "ttihdcS"
    later, immediately = message.params[:2]
    assert ntp_to_unix(later.ntp) == pytest.approx(time.time() + 0.5, abs=0.5)
    assert immediately.ntp == 1
    assert message.params[2:] == [3, 5, 0.1, "a", "sym"]


def test_send_keeps_dollar_and_semicolon_in_shell_words(udp: socket.socket) -> None:
    port = udp.getsockname()[1]
    result = run("send", str(port), "/price$usd", "pa$word", "a;")
    assert result.returncode == 0, result.stderr
    message = OscMessage(udp.recv(65536))
    assert message.address == "/price$usd" and message.params == ["pa$word", "a;"]


def test_send_bundle_from_stdin(udp: socket.socket) -> None:
    port = udp.getsockname()[1]
    result = run(
        "send", "--at", "+0.5", f"udp://127.0.0.1:{port}", "-", stdin="/a 1\n# comment\n/b 'x'\n"
    )
    assert result.returncode == 0, result.stderr
    bundle = OscBundle(udp.recv(65536))
    assert bundle.num_contents == 2 and bundle.timestamp > time.time()


@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_send_tcp_and_wait_for_replies(mode: str) -> None:
    with VirtualSynth() as synth:
        host, port = synth.tcp_address
        result = run("send", "--mode", mode, "--wait", "1", f"tcp://{host}:{port}", "/ping", "7")
        assert result.returncode == 0, result.stderr
        assert "/pong ,i 7" in result.stdout
        assert synth.get("/ping") == (7,)


def test_send_udp_wait_prints_the_reply() -> None:
    with VirtualSynth() as synth:
        result = run("send", "--wait", "0.5", str(synth.udp_address[1]), "/status")
        assert result.returncode == 0, result.stderr
        assert "/status.reply" in result.stdout


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_listen_udp_prints_one_line_per_message() -> None:
    port = _free_port(socket.SOCK_DGRAM)
    proc = subprocess.Popen(
        [*CLI, "listen", str(port), "--count", "3", "--timeout", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stderr is not None
        assert "listening on" in proc.stderr.readline()
        with SimpleUDPClient("127.0.0.1", port) as client:
            client.send_message("/a", [1, "x"])
            client.send_message("/b", 2.5)
            client.send(OscMessage.from_parts("/amp", [0.1, 0.1], "fd"))
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("/a ,is 1 'x'") and lines[1].endswith("/b ,f 2.5")
    assert lines[2].endswith("/amp ,fd 0.1 0.1")  # float32 by its shortest repr


def test_listen_tcp_json() -> None:
    from osc_live.tcp_client import SimpleTCPClient

    port = _free_port(socket.SOCK_STREAM)
    proc = subprocess.Popen(
        [*CLI, "listen", f"tcp://127.0.0.1:{port}", "--count", "1", "--timeout", "10", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stderr is not None
        assert "listening on tcp://" in proc.stderr.readline()
        with SimpleTCPClient("127.0.0.1", port, mode="1.0") as client:
            client.send_message("/j", [1, b"\x00\xff"])
            out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    record = json.loads(out.splitlines()[0])
    assert record["address"] == "/j" and record["args"] == [1, "00ff"] and record["tags"] == "ib"


def test_listen_timeout_without_enough_messages_exits_1() -> None:
    result = run("listen", "0", "--count", "1", "--timeout", "0.3")
    assert result.returncode == 1


def test_explain() -> None:
    result = run("explain", "--tcp", "1.0", "/fx/reverb", "0.3")
    assert result.returncode == 0
    assert "size prefix" in result.stdout and "address pattern '/fx/reverb'" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send", "9000", "x"], "bad address 'x'"),
        (["send", "9000", "/x", "i:1.5"], "'i:1.5'"),
        (["send", "ftp://h:1", "/x"], "'ftp://h:1'"),
        (["send"], "needs a URL"),
        (["listen", "0", "--count", "zero"], "--count"),
        (["listen", "0", "--frob"], "'--frob'"),
        (["explain", "nope"], "'nope'"),
        (["frobnicate"], "'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("osc-live: error:") and message in lines[0]


def test_network_error_exits_1_with_one_line() -> None:
    port = _free_port(socket.SOCK_STREAM)
    result = run("send", f"tcp://127.0.0.1:{port}", "/x")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("osc-live: network error:")


def test_help() -> None:
    result = run("help")
    assert result.returncode == 0 and "osc-live send" in result.stdout


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")


@needs_ipv6
def test_ipv6_send_and_wait_against_a_synth_on_ipv6_loopback() -> None:
    with VirtualSynth("::1") as synth:
        port = synth.udp_address[1]
        result = run("send", "--wait", "0.5", f"udp://[::1]:{port}", "/ping", "3")
        assert result.returncode == 0, result.stderr
        assert f"[::1]:{port} /pong ,i 3" in result.stdout
        tport = synth.tcp_address[1]
        result = run("send", "--wait", "1", f"tcp://[::1]:{tport}", "/ping", "4")
        assert result.returncode == 0, result.stderr
        assert "/pong ,i 4" in result.stdout
        assert synth.history[-1].source.startswith("[::1]:")


@needs_ipv6
def test_ipv6_listen_prints_bracketed_addresses() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        sock.bind(("::1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [*CLI, "listen", f"udp://[::1]:{port}", "--count", "1", "--timeout", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stderr is not None
        assert f"listening on udp://[::1]:{port}" in proc.stderr.readline()
        with SimpleUDPClient("::1", port) as client:
            client.send_message("/v6", 1)
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    assert " [::1]:" in out and out.rstrip().endswith("/v6 ,i 1")


# --- nothing read from a pipe or the command line is ever evaluated (issue 9 item 2) -----------


@pytest.mark.parametrize("where", ["stdin", "argv"])
def test_osc_live_never_evaluates_expressions_from_a_pipe_or_argv(
    where: str, udp: socket.socket, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    canary = tmp_path / "canary"
    port = udp.getsockname()[1]
    udp.settimeout(0.3)
    reads = f"open({str(secret)!r}).read()"
    writes = f"open({str(canary)!r}, 'w').write('x')"
    words = [
        f"{{{{{reads}}}}}",
        f"s:{{{{{reads}}}}}",
        f"*{{{{[{reads}]}}}}",
        f"pre{{{{{writes}}}}}post",
        "{{__import__('os').getpid()}}",
    ]
    for word in words:
        if where == "stdin":
            result = run("send", str(port), "-", stdin=f"/z {word}\n")
        else:
            result = run("send", str(port), "/z", word)
        assert result.returncode == 2, (word, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "never from a command line or a pipe" in lines[0], lines
        assert "TOP-SECRET" not in result.stderr + result.stdout
    for text in (f"/z{{{{{writes}}}}}", f"udp://127.0.0.1:{{{{{writes}}}}}"):
        result = run("send", text, "/z", "1") if "udp" in text else run("send", str(port), text)
        assert result.returncode == 2, result.stderr
    assert run("explain", "/z", f"{{{{{writes}}}}}").returncode == 2
    assert run("listen", f"{{{{{writes}}}}}", "--timeout", "0.1").returncode == 2
    assert not canary.exists()
    with pytest.raises(TimeoutError):  # nothing was sent at all
        udp.recv(65536)
    # $name is not looked up either: in shell words it is text, in piped lines an error
    assert run("send", str(port), "/z", "$HOME_NOT_EXPANDED").returncode == 0
    assert OscMessage(udp.recv(65536)).params == ["$HOME_NOT_EXPANDED"]
    assert run("send", str(port), "-", stdin="/z $secret\n").returncode == 2


def test_send_and_listen_over_websocket() -> None:
    """Every scheme of osc_live.endpoints works in the CLI (ws:// here, through osc_live._links)."""
    port = _free_port(socket.SOCK_STREAM)
    proc = subprocess.Popen(
        [*CLI, "listen", f"ws://127.0.0.1:{port}/osc", "--count", "2", "--timeout", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stderr is not None
        assert f"listening on ws://127.0.0.1:{port}" in proc.stderr.readline()
        result = run("send", f"ws://127.0.0.1:{port}/osc", "-", stdin="/ws/a 1\n/ws/b 0.1\n")
        assert result.returncode == 0, result.stderr
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    lines = out.splitlines()
    assert lines[0].endswith("/ws/a ,i 1") and lines[1].endswith("/ws/b ,f 0.1")
