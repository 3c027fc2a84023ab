"""Recordings: the file format, bounded memory, damaged files, and replay (order, speed, timetags,
filter, loop, stop). Timing is measured in benchmarks/bench_replay.py; here only order and
loose bounds are asserted."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import socket
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from osc_live.osc_bundle import OscBundle
from osc_live.osc_bundle_builder import OscBundleBuilder
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_message_builder import build_msg
from osc_live.parsing import ntp
from osc_live.recording import Recorder, RecordingError, read_records, scan
from osc_live.replay import Replayer, shift_timetags

pytestmark = pytest.mark.timeout(60)


def _record(path: Path, packets: list[tuple[bytes, float]], **kwargs: Any) -> None:
    """Record ``packets`` (data, seconds after the start) in real time."""
    with Recorder(path, **kwargs) as rec:
        t0 = time.monotonic()
        for data, at in packets:
            while time.monotonic() < t0 + at:
                time.sleep(0.0005)
            rec.record(data, "udp:127.0.0.1:9")


def test_file_format_is_json_lines_readable_without_osc_live(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    bundle = OscBundleBuilder(0)
    bundle.add_content(build_msg("/b/x", 1))
    with Recorder(path, source="udp://127.0.0.1:9000", directions=("in", "out")) as rec:
        rec.record(encode_message("/fader/1", [0.5]), "udp:127.0.0.1:5000")
        rec.record(bundle.build().dgram, "ws:127.0.0.1:6000")
        rec.record(encode_message("/s_new", ["x"]), "udp:127.0.0.1:57110", direction="out")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    header, records, end = lines[0], lines[1:-1], lines[-1]
    assert header["format"] == "osc-live-recording" and header["version"] == 1
    assert header["source"] == "udp://127.0.0.1:9000"
    assert abs(header["wall_ns"] / 1e9 - time.time()) < 60
    assert [r["addr"] for r in records] == ["/fader/1", "#/b/x", "/s_new"]
    assert [r["dir"] for r in records] == ["in", "in", "out"]
    assert base64.b64decode(records[0]["data"]) == encode_message("/fader/1", [0.5])
    assert records[0]["t"] <= records[1]["t"] <= records[2]["t"]
    assert end == {"end": True, "t": end["t"], "packets": 3, "dropped": 0}
    info = scan(path)
    assert info.packets == 3 and info.complete


def test_pattern_and_direction_filters(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with Recorder(path, pattern="/sensor/*") as rec:
        assert rec.record(encode_message("/sensor/a", [1]))
        assert not rec.record(encode_message("/other", [1]))
        assert not rec.record(encode_message("/sensor/b", [2]), direction="out")
        assert not rec.record(b"garbage!")
        assert rec.filtered == 2
    assert [r.data for r in read_records(path)] == [encode_message("/sensor/a", [1])]
    with pytest.raises(ValueError):
        Recorder(tmp_path / "x", pattern="/[")


def test_memory_stays_bounded_while_recording(tmp_path: Path) -> None:
    """10,000 packets (~1 MB on disk): traced memory grows by less than 200 kB."""
    path = tmp_path / "long.jsonl"
    data = encode_message("/sensor/accel", [0.1, 0.2, 0.3])
    with Recorder(path) as rec:
        for _ in range(5_000):
            rec.record(data)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(10_000):
            rec.record(data)
        grown = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    assert grown < 200_000
    assert path.stat().st_size > 1_000_000
    assert scan(path).packets == 15_000


def test_recorder_is_thread_safe_and_times_never_go_back(tmp_path: Path) -> None:
    path = tmp_path / "threads.jsonl"
    with Recorder(path) as rec:

        def work(n: int) -> None:
            for i in range(2000):
                rec.record(encode_message(f"/t/{n}", [i]))

        threads = [threading.Thread(target=work, args=(n,), name=f"rec-{n}") for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    records = list(read_records(path))
    assert len(records) == 8000
    assert all(a.t <= b.t for a, b in itertools.pairwise(records))


# ------------------------------------------------------------------------------ damaged files
def _good_file(tmp_path: Path) -> Path:
    path = tmp_path / "good.jsonl"
    with Recorder(path) as rec:
        for i in range(5):
            rec.record(encode_message("/x", [i]))
    return path


def _damage(path: Path, line: int, replace: str) -> Path:
    lines = path.read_text().splitlines(keepends=True)
    lines[line - 1] = replace
    path.write_text("".join(lines))
    return path


BIG_T = '"t": 10000000000, "dir": "in"'


@pytest.mark.parametrize(
    ("line", "text", "message"),
    [
        (3, "{" + BIG_T + ', "data": "!!"}\n', "line 3: packet data is not base64"),
        (4, "{" + BIG_T + ', "data": "aGVsbG8="}\n', "line 4: packet is not valid OSC"),
        (2, "not json at all\n", "line 2: not a JSON object"),
        (5, '{"t": -1, "dir": "in", "data": ""}\n', "line 5: bad time"),
        (3, '{"t": 10000000000, "dir": "sideways", "data": ""}\n', "line 3: bad direction"),
        (6, '{"t": 0, "dir": "in", "data": "L3gAACxpAAAAAAAA"}\n', "line 6: time goes back"),
        (1, '{"format": "something else"}\n', "line 1: not an osc_live recording"),
        (7, '{"end": true, "t": 0, "packets": 9}\n', "line 7: end line counts 9 packets"),
    ],
)  # fmt: skip
def test_corrupted_file_names_the_line(tmp_path: Path, line: int, text: str, message: str) -> None:
    path = _damage(_good_file(tmp_path), line, text)
    with pytest.raises(RecordingError, match=message) as err:
        scan(path)
    assert err.value.line == line and str(path) in str(err.value)


def test_truncated_file_names_the_line(tmp_path: Path) -> None:
    path = _good_file(tmp_path)
    raw = path.read_bytes()
    cut = raw[: raw.rfind(b"\n", 0, len(raw) - 1) - 10]  # inside the 6th line (5th record)
    path.write_bytes(cut)
    with pytest.raises(RecordingError, match="line 6: truncated") as err:
        scan(path)
    assert err.value.line == 6
    with pytest.raises(RecordingError, match="line 6: truncated"):
        Replayer(path, lambda data: None)


def test_file_without_end_line_still_reads(tmp_path: Path) -> None:
    path = _good_file(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))  # the recorder was killed: no end line
    info = scan(path)
    assert info.packets == 5 and not info.complete


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(RecordingError, match="line 1: empty file"):
        scan(path)


# ------------------------------------------------------------------------------------ replay
def test_replay_follows_the_schedule_never_early(tmp_path: Path) -> None:
    """Order kept; no packet leaves before its due time (the schedule / speed); lateness is
    measured in benchmarks/bench_replay.py, not asserted here."""
    path = tmp_path / "r.jsonl"
    _record(path, [(encode_message("/n", [i]), i * 0.05) for i in range(6)])
    recorded = [r.t / 1e9 for r in read_records(path)]

    async def replay(speed: float) -> tuple[list[int], list[float], float]:
        loop = asyncio.get_running_loop()
        values: list[int] = []
        times: list[float] = []

        def send(data: bytes) -> None:
            values.append(OscMessage(data).params[0])
            times.append(loop.time())

        start = loop.time()
        await Replayer(path, send, speed=speed, lead=0.0).run()
        return values, times, start

    for speed in (1.0, 2.0, 0.5):
        values, times, start = asyncio.run(replay(speed))
        assert values == list(range(6))
        for sent, t in zip(times, recorded, strict=True):
            assert sent - start >= (t - recorded[0]) / speed - 0.001, (speed, times)


def test_replay_shifts_bundle_timetags_consistently(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    inner = OscBundleBuilder(time.time() + 0.5)
    inner.add_content(build_msg("/inner", 1))
    outer = OscBundleBuilder(time.time() + 0.25)
    outer.add_content(build_msg("/outer", 1))
    outer.add_content(inner.build())
    immediate = OscBundleBuilder(0)
    immediate.add_content(build_msg("/now", 1))
    _record(path, [(outer.build().dgram, 0.0), (immediate.build().dgram, 0.01)])
    time.sleep(0.3)  # the recorded timetags are now in the past

    sent: list[tuple[float, bytes]] = []

    async def main() -> None:
        await Replayer(path, lambda d: sent.append((time.time(), d)), speed=2.0).run()

    asyncio.run(main())
    (t_sent, data), (_, now_data) = sent
    bundle = OscBundle(data)
    assert 0.09 < bundle.timestamp - t_sent < 0.16  # 0.25 s ahead, at 2x speed
    assert 0.2 < bundle.content(1).timestamp - t_sent < 0.3  # 0.5 s ahead, at 2x
    assert OscBundle(now_data).timetag == 1  # immediately stays immediately


def test_shift_timetags_leaves_messages_alone() -> None:
    data = encode_message("/x", [1])
    assert shift_timetags(data, 0.0, 100.0, 1.0) is data
    b = OscBundleBuilder(1000.0)
    b.add_content(build_msg("/x", 1))
    shifted = OscBundle(shift_timetags(b.build().dgram, 990.0, 5000.0, 1.0))
    assert abs(shifted.timestamp - 5010.0) < 1e-6
    assert ntp.unix_to_ntp(5010.0) == shifted.timetag


def test_replay_pattern_directions_loop_and_stop(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    with Recorder(path, directions=("in", "out")) as rec:
        for i in range(4):
            rec.record(encode_message("/keep/me", [i]))
            rec.record(encode_message("/drop", [i]))
            rec.record(encode_message("/keep/out", [i]), direction="out")
            time.sleep(0.005)

    async def main() -> tuple[list[str], Any, list[int]]:
        got: list[str] = []
        stats = await Replayer(
            path, lambda d: got.append(OscMessage(d).address), pattern="/keep/*"
        ).run()
        looped: list[int] = []
        replayer = Replayer(
            path, lambda d: looped.append(OscMessage(d).params[0]), loop=True, speed=4.0,
            directions=("out",),
        )  # fmt: skip
        task = replayer.start()
        while len(looped) < 12:
            await asyncio.sleep(0.01)
        replayer.stop()
        final = await task
        assert final.loops >= 2 and not replayer.running
        return got, stats, looped

    got, stats, looped = asyncio.run(main())
    assert got == ["/keep/me"] * 4 and stats.skipped == 4
    assert looped[:12] == [0, 1, 2, 3] * 3


def test_replay_stopped_from_another_thread(tmp_path: Path) -> None:
    path = tmp_path / "slow.jsonl"
    _record(path, [(encode_message("/n", [i]), i * 0.01) for i in range(3)])
    path2 = tmp_path / "long.jsonl"
    lines = path.read_text().splitlines()
    # stretch: the last packet 60 s after the first (edit the times: the format is text)
    last = json.loads(lines[-2])
    last["t"] += 60 * 10**9
    lines[-2] = json.dumps(last)
    end = json.loads(lines[-1])
    end["t"] = last["t"]
    lines[-1] = json.dumps(end)
    path2.write_text("\n".join(lines) + "\n")

    sent: list[bytes] = []

    async def main() -> float:
        replayer = Replayer(path2, sent.append)
        task = replayer.start()
        await asyncio.sleep(0.1)
        t0 = time.monotonic()
        threading.Thread(target=replayer.stop, name="stopper").start()
        await task
        return time.monotonic() - t0

    assert asyncio.run(main()) < 1.0
    assert len(sent) == 2


def test_replay_to_a_real_udp_socket(tmp_path: Path) -> None:
    path = tmp_path / "udp.jsonl"
    _record(path, [(encode_message("/u", [i]), i * 0.002) for i in range(50)])
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
    ):
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(2)
        target = rx.getsockname()

        async def main() -> None:
            await Replayer(path, lambda d: tx.sendto(d, target)).run()

        asyncio.run(main())
        got = [OscMessage(rx.recv(100)).params[0] for _ in range(50)]
    assert got == list(range(50))


def test_replay_rejects_bad_arguments(tmp_path: Path) -> None:
    path = _good_file(tmp_path)
    with pytest.raises(ValueError):
        Replayer(path, print, speed=0)
    with pytest.raises(ValueError):
        Replayer(path, print, pattern="/{a")
