"""``%osc advertise / discover / query / panel / connect NAME`` in a real IPython shell, and
``osc-live discover / query / synth --oscquery`` as a user runs them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError

from osc_live import cli, live
from osc_live.magics.completer import candidates
from osc_live.oscquery import client
from osc_live.oscquery.namespace import Namespace
from osc_live.oscquery.server import OscQueryServer
from tests.test_magics import start_ipython


@pytest.fixture
def ip() -> Iterator[Any]:
    shell = start_ipython()
    shell.run_line_magic("load_ext", "osc_live")
    yield shell
    shell.run_line_magic("unload_ext", "osc_live")


def magic(ip: Any, line: str, capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    result = ip.run_line_magic("osc", line)
    return result, capsys.readouterr().out


def test_advertise_discover_connect_query_panel_close(ip, capsys):
    name = f"magic-{os.getpid()}"
    seen: list[Any] = []
    ip.user_ns["seen_probe"] = lambda address, *args: seen.append((address, list(args)))
    magic(ip, "listen kl udp://127.0.0.1:0", capsys)  # the kernel's listener: in HOST_INFO
    port = live.session().listeners["kl"].port
    magic(ip, "on /fx/hit seen_probe", capsys)
    magic(ip, "on /probe seen_probe", capsys)
    _, out = magic(ip, f"advertise {name}", capsys)
    assert out.startswith(f"advertising {name}: http://127.0.0.1:")
    assert f"OSC udp://127.0.0.1:{port}" in out and f"zeroconf {name!r}" in out
    url = out.split()[2]
    _, out = magic(ip, "status", capsys)
    assert name in out
    _, out = magic(ip, "discover --timeout 0.5", capsys)
    row = next(line for line in out.splitlines() if line.startswith(name))
    assert f"{port}" in row and "udp" in row and url in row
    # connect by name: a target to the advertised OSC receiver (the kernel's own listener)
    magic(ip, f"connect {name}", capsys)
    magic(ip, f"send @{name} /probe 7", capsys)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen == [("/probe", [7])]
    _, out = magic(ip, f"query {name}", capsys)
    assert "├─ fx/" in out and "hit" in out and "probe" in out
    assert "/fx/hit" in candidates("%osc send /fx/h", live.session())
    box, _ = magic(ip, f"panel {url} /fx", capsys)
    assert "/fx/hit" in box.remote.controls
    _, out = magic(ip, f"close {name}", capsys)
    assert out.strip() == f"closed {name}"
    with pytest.raises(client.OscQueryError):
        client.query(url, timeout=1)
    from osc_live.oscquery.mdns import browse

    assert not [s for s in browse(0.5) if s.name == name]  # the zeroconf records are withdrawn


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("query", "query needs an OSCQuery URL"),
        ("query http://127.0.0.1:1/ fx", "bad path 'fx'"),
        ("advertise --http x", "bad value 'x' for --http"),
        ("advertise a b", "unexpected 'b'"),
        ("discover --timeout 0", "bad value '0' for --timeout"),
        ("panel", "panel needs an OSCQuery URL"),
        ("query https://x:1/", "only http:// OSCQuery URLs"),
    ],
)
def test_bad_lines_are_one_usage_error(ip, line, message):
    with pytest.raises(UsageError, match=message) as info:
        ip.run_line_magic("osc", line)
    assert "\n" not in str(info.value)


def test_an_unreachable_or_hostile_server_is_one_line(ip):
    from tests.test_oscquery_client import raw_server, reply

    with pytest.raises(UsageError, match="connection refused"):
        ip.run_line_magic("osc", "query http://127.0.0.1:1/ --timeout 1")
    hostile = raw_server(reply(b"[" * 500 + b"]" * 500))
    with hostile as url, pytest.raises(UsageError, match="nested deeper than 64") as info:
        ip.run_line_magic("osc", f"panel {url}")
    assert "\n" not in str(info.value)


def test_cli_query_and_discover(capsys: pytest.CaptureFixture[str]) -> None:
    ns = Namespace()
    ns.add("/a/b", "f", value=0.5, range=(0.0, 1.0), description="bee")
    with OscQueryServer(ns, name="cli") as server:
        out, err = io.StringIO(), io.StringIO()
        from osc_live.commands.registry import CliIO

        sub = __import__("osc_live.commands.registry", fromlist=["get"]).get("query")
        assert sub.cli(["--timeout", "2", server.url], CliIO(out, err, io.StringIO())) == 0
        assert "bee" in out.getvalue() and "0.0 … 1.0" in out.getvalue()
        assert sub.cli([server.url, "/a/b", "--json"], CliIO(out, err, io.StringIO())) == 0
        assert json.loads(out.getvalue().splitlines()[-1])["DESCRIPTION"] == "bee"
    capsys.readouterr()
    assert cli.main(["query", server.url, "--timeout", "1"]) == 1  # closed now
    err = capsys.readouterr().err
    assert err.startswith("osc-live: error: ") and err.count("\n") == 1, err
    assert cli.main(["query"]) == 2
    assert capsys.readouterr().err.startswith("osc-live: error: query needs a URL")
    for bad in ("0", "61", "soon"):  # the notebook's rule: seconds in (0, 60]
        assert cli.main(["discover", "--timeout", bad]) == 2
        err = capsys.readouterr().err
        assert (
            err == f"osc-live: error: bad value {bad!r} for --timeout: expected seconds (0, 60]\n"
        )


def test_cli_synth_serves_its_namespace():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "osc_live.cli",
            "synth",
            "--oscquery",
            "0",
            "--name",
            f"cli-{os.getpid()}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("oscquery http://127.0.0.1:") and line.endswith("/")
        url = line.split()[1]
        info = client.host_info(url, timeout=5)
        assert info.osc_transport == "UDP" and info.osc_port
        assert client.query(url, "/s_new", timeout=5).description.startswith("creates a node")
        deadline = time.monotonic() + 10
        assert proc.stderr is not None
        announced = ""
        while "announced" not in announced and time.monotonic() < deadline:
            announced += proc.stderr.readline()
        assert f"announced over zeroconf as 'cli-{os.getpid()}'" in announced
    finally:
        proc.terminate()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
