"""``%osc connect/listen ws://``, ``%osc bridge``, ``%osc record``/``replay`` in a real IPython
shell, and ``osc-live bridge|record|replay`` as processes."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("IPython")

from IPython.core.error import UsageError

from osc_live.notebook.kernel_session import session as live_session
from osc_live.osc_message import encode_message
from osc_live.recording import read_records, scan
from osc_live.ws_client import AsyncWSClient, WSClient
from tests.test_magics import Receiver, osc, rx, start_ipython, wait_until  # noqa: F401

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def ip() -> Iterator[Any]:
    shell = start_ipython()
    shell.run_line_magic("load_ext", "osc_live")
    yield shell
    shell.run_line_magic("osc", "close all")
    for name in ("answer", "page_handler"):
        shell.user_ns.pop(name, None)
    shell.run_line_magic("unload_ext", "osc_live")


def status() -> str:
    """What ``%osc status`` prints."""
    from osc_live.commands.subcommands.status import status_text

    return status_text(live_session().status())


def test_listen_and_connect_ws_replies_on_the_connection(ip: Any) -> None:
    seen: list[Any] = []

    def answer(address: str, *args: Any) -> Any:
        seen.append(args)
        return ("/answer", *args)

    ip.user_ns["answer"] = answer
    osc(ip, "on /ask answer")
    listener = osc(ip, "listen ws://127.0.0.1:0/osc")
    port = listener.port
    with WSClient(f"ws://127.0.0.1:{port}/osc", timeout=5) as client:
        client.send_message("/ask", [1, "two"])
        replies = [(m.address, m.params) for m in client.get_messages(1)]
    assert seen == [(1, "two")]
    assert replies == [("/answer", [1, "two"])]
    osc(ip, f"connect me ws://127.0.0.1:{port}/osc")
    osc(ip, "send /ask 3")
    assert wait_until(lambda: len(seen) == 2)
    assert "ws://127.0.0.1" in status()


def test_listen_ws_in_a_thread(ip: Any) -> None:
    """``--thread``: the WebSocket listener keeps receiving while a cell blocks."""
    threads: list[str] = []

    def answer(address: str, *args: Any) -> Any:
        import threading

        threads.append(threading.current_thread().name)
        return ("/answer", *args)

    ip.user_ns["answer"] = answer
    osc(ip, "on /ask answer")
    listener = osc(ip, "listen ws://127.0.0.1:0 --thread")
    with WSClient(f"ws://127.0.0.1:{listener.port}/", timeout=5) as client:
        client.send_message("/ask", 5)
        assert [m.params for m in client.get_messages(1)] == [[5]]
    assert threads == [f"osc_live-listen-ws:{listener.port}"]


def test_bad_lines_are_one_usage_error(ip: Any, tmp_path: Path) -> None:
    for line in (
        "record",
        "record a.jsonl /[",
        "replay",
        "replay f.jsonl --speed 0",
        "replay f.jsonl @x @y",
        "bridge ws://127.0.0.1:0",
        "bridge udp://127.0.0.1:1 udp://127.0.0.1:2",
        "bridge ws://127.0.0.1:0 http://x:1",
        "listen ws://127.0.0.1:0 --mode 1.0",
    ):
        with pytest.raises(UsageError) as err:
            osc(ip, line)
        assert "\n" not in str(err.value), line
    with pytest.raises(UsageError, match="no recording is running"):
        osc(ip, "record stop")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not a recording\n")
    with pytest.raises(UsageError, match=r"bad\.jsonl, line 1: not a JSON object"):
        osc(ip, f"replay {bad}")


def test_record_then_replay_into_a_target(ip: Any, rx: Receiver, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "session.jsonl"
    listener = osc(ip, "listen 0")
    osc(ip, f"connect out {rx.url}")
    rec = osc(ip, f"record {path} /sensor/* --sent")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for i in range(5):
            tx.sendto(encode_message("/sensor/x", [i]), ("127.0.0.1", listener.port))
            tx.sendto(encode_message("/other", [i]), ("127.0.0.1", listener.port))
            time.sleep(0.02)
    osc(ip, "send /sensor/sent 1")
    assert wait_until(lambda: rec.recorder.packets == 6)
    assert "6 packets" in status()
    osc(ip, "record stop")
    records = list(read_records(path))
    assert [r.direction for r in records] == ["in"] * 5 + ["out"]
    rx.messages(1)  # the /sensor/sent of the session itself

    replay = osc(ip, f"replay {path} @out --speed 4")
    got = rx.messages(5)
    assert got == [("/sensor/x", [i]) for i in range(5)]
    assert wait_until(lambda: replay.replayer.finished)
    assert "5/6 sent" in repr(replay)
    totals = live_session().traffic.totals_copy()
    assert totals["sent"] >= 6  # replayed packets show as sent in the monitor's counters


def test_record_one_listener(ip: Any, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    a = osc(ip, "listen a udp://127.0.0.1:0")
    b = osc(ip, "listen b ws://127.0.0.1:0")
    rec = osc(ip, f"record {path} --listener a")
    assert "from a" in repr(rec)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.sendto(encode_message("/from/a", [1]), ("127.0.0.1", a.port))
    with WSClient(f"ws://127.0.0.1:{b.port}/", timeout=5) as client:
        client.send_message("/from/b", 2)
    assert wait_until(lambda: live_session().traffic.totals_copy()["received"] >= 2)
    osc(ip, "record stop")
    assert [r.data for r in read_records(path)] == [encode_message("/from/a", [1])]
    with pytest.raises(UsageError, match="no listener named 'zz'"):
        osc(ip, f"record {tmp_path / 'x.jsonl'} --listener zz")
    assert not (tmp_path / "x.jsonl").exists()


def test_replay_loop_and_stop(ip: Any, rx: Receiver, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "loop.jsonl"
    from osc_live.recording import Recorder

    with Recorder(path) as rec:
        for i in range(3):
            rec.record(encode_message("/l", [i]))
    osc(ip, f"connect out {rx.url}")
    replay = osc(ip, f"replay {path} --loop")
    assert len(rx.messages(7)) == 7
    osc(ip, "replay stop")
    assert wait_until(lambda: replay.replayer.finished)


def test_bridge_magic_browser_style_client_reaches_a_listener(ip: Any) -> None:
    seen: list[Any] = []

    def page_handler(address: str, *args: Any) -> Any:
        seen.append(address)
        return ("/kernel/ok",)

    ip.user_ns["page_handler"] = page_handler
    osc(ip, "on /page/* page_handler")
    listener = osc(ip, "listen 0")
    bridge = osc(ip, f"bridge ws://127.0.0.1:0 udp://127.0.0.1:{listener.port}")
    url = bridge.bridge.url

    async def page() -> list[Any]:
        async with AsyncWSClient(url) as client:
            await client.send_message("/page/button", 1)
            return [m.address async for m in client.get_messages(2)]

    assert asyncio.run(page()) == ["/kernel/ok"]
    assert seen == ["/page/button"]
    text = status()
    assert "bridge" in text and "1 to target" in text
    osc(ip, "bridge stop")
    assert "bridge" not in status().split("counters")[0]


def test_bridge_to_the_virtual_synth(ip: Any) -> None:
    bridge = osc(ip, "bridge ws://127.0.0.1:0 udp://synth")
    with WSClient(bridge.bridge.url, timeout=5) as client:
        client.send_message("/s_new", ["default", 1000, 0, 0, "freq", 440.0])
        assert wait_until(lambda: live_session().synth is not None and live_session().synth.count)


# ------------------------------------------------------------------------------------- CLI
def _cli(*args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "osc_live.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw,
    )  # fmt: skip


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=5)
    return out, err


def _wait_line(proc: subprocess.Popen[str], word: str) -> str:
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert word in line, line
    return line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_record_replay_and_bridge(tmp_path: Path, rx: Receiver) -> None:  # noqa: F811
    path = tmp_path / "cli.jsonl"
    port = _free_port()
    recorder = _cli("record", str(path), f"udp://127.0.0.1:{port}", "/keep/*")
    try:
        _wait_line(recorder, "recording")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for i in range(4):
                tx.sendto(encode_message("/keep/v", [i]), ("127.0.0.1", port))
                tx.sendto(encode_message("/drop", [i]), ("127.0.0.1", port))
        time.sleep(0.3)
    finally:
        _out, err = _stop(recorder)
    assert "recorded 4 packets" in err and recorder.returncode == 0
    assert scan(path).complete

    replay = subprocess.run(
        [sys.executable, "-m", "osc_live.cli", "replay", str(path), rx.url, "--speed", "4"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    assert rx.messages(4) == [("/keep/v", [i]) for i in range(4)]

    ws_port = _free_port()
    bridge = _cli("bridge", f"ws://127.0.0.1:{ws_port}", rx.url)
    try:
        _wait_line(bridge, "bridging")
        with WSClient("127.0.0.1", ws_port, timeout=5) as client:
            client.send_message("/via/bridge", 1)
            assert rx.messages(1) == [("/via/bridge", [1])]
    finally:
        _out, err = _stop(bridge)
    assert "to_target 1" in err


def test_cli_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"format": "osc-live-recording", "version": 1, "wall_ns": 0}) + "\n{")
    run = subprocess.run(
        [sys.executable, "-m", "osc_live.cli", "replay", str(bad), "udp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert run.returncode == 1 and "line 2: truncated" in run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "osc_live.cli", "bridge", "ws://0.0.0.0:0", "udp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert run.returncode == 2 and "--lan" in run.stderr
