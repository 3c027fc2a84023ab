"""Every example of docs/reference/tcp-networking.md runs as written with ``osc_live``.

The document lost the indentation of its code blocks, so the examples are transcribed below with
their indentation restored; :func:`test_transcriptions_match_the_document` proves each
transcription is the document's block line for line.  Each example then runs in its own Python
process (all at once, they wait on receive timeouts) with ``pythonosc`` replaced by
``osc_live``, the host 192.168.1.100 by 127.0.0.1 and its ports by those of real local servers
(ours, echoing every message as ``/echo<address>``); the batch example gets the
``OscMessageBuilder`` import it forgets.  The API blocks are checked by signature.
"""

from __future__ import annotations

import inspect
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from osc_live import tcp_client
from osc_live.dispatcher import Dispatcher
from tests.tcp_support import RunningServer, ipv6_available

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reference" / "tcp-networking.md"

EXAMPLES: dict[str, str] = {}

EXAMPLES["basic"] = """
from pythonosc import tcp_client

# Create simple TCP client
client = tcp_client.SimpleTCPClient("127.0.0.1", 8000)

try:
    # Send messages
    client.send_message("/synth/note", [60, 127])
    client.send_message("/effect/reverb", 0.3)
    client.send_message("/transport/play", True)

    # Receive responses
    for message in client.get_messages(timeout=5):
        print(f"Response: {message.address} -> {message.params}")
finally:
    client.close()
"""

EXAMPLES["context_manager"] = """
from pythonosc import tcp_client
from pythonosc.osc_message_builder import OscMessageBuilder

# Automatic connection management
with tcp_client.TCPClient("192.168.1.100", 9000) as client:
    # Send pre-built message
    builder = OscMessageBuilder("/mixer/channel/1/volume")
    builder.add_arg(0.8)
    message = builder.build()
    client.send(message)

    # Receive responses
    for response in client.receive(timeout=10):
        if hasattr(response, 'address'):  # OscMessage
            print(f"Message: {response.address} {response.params}")
        else:  # OscBundle
            print(f"Bundle with {response.num_contents} items")
"""

EXAMPLES["modes"] = """
from pythonosc import tcp_client

# OSC 1.0 mode (size-prefixed messages)
client_10 = tcp_client.SimpleTCPClient("127.0.0.1", 8000, mode="1.0")
client_10.send_message("/osc10/test", "OSC 1.0 message")

# OSC 1.1 mode (SLIP-encoded messages) - default
client_11 = tcp_client.SimpleTCPClient("127.0.0.1", 8001, mode="1.1")
client_11.send_message("/osc11/test", "OSC 1.1 message")

client_10.close()
client_11.close()
"""

EXAMPLES["async"] = """
import asyncio
from pythonosc import tcp_client

async def async_communication():
    # Create async client
    client = tcp_client.AsyncTCPClient("127.0.0.1", 8000)

    try:
        # Send message asynchronously
        await client.send_message("/async/test", ["hello", "world"])

        # Receive messages asynchronously
        async for message in client.receive(timeout=5):
            print(f"Async response: {message.address} -> {message.params}")
    finally:
        await client.close()

# Run async function
asyncio.run(async_communication())
"""

EXAMPLES["async_context"] = """
import asyncio
from pythonosc import tcp_client

async def async_context_example():
    async with tcp_client.AsyncTCPClient("127.0.0.1", 8000) as client:
        # Send multiple messages
        await client.send_message("/async/start", True)
        await client.send_message("/async/data", [1, 2, 3, 4, 5])
        await client.send_message("/async/end", False)

        # Process responses
        message_count = 0
        async for message in client.receive(timeout=10):
            print(f"Message {message_count}: {message.address}")
            message_count += 1
            if message_count >= 3:  # Stop after 3 messages
                break

asyncio.run(async_context_example())
"""

EXAMPLES["async_dispatcher"] = """
import asyncio
from pythonosc import tcp_client
from pythonosc.dispatcher import Dispatcher

# Set up async response handlers
async def handle_async_ack(address, *args):
    print(f"Async ACK: {address} {args}")

async def handle_async_data(address, *args):
    print(f"Async data: {address} {args}")

async def async_dispatcher_example():
    # Configure class dispatcher
    tcp_client.AsyncDispatchTCPClient.dispatcher = Dispatcher()
    tcp_client.AsyncDispatchTCPClient.dispatcher.map("/ack", handle_async_ack)
    tcp_client.AsyncDispatchTCPClient.dispatcher.map("/data", handle_async_data)

    # Create dispatcher client
    client = tcp_client.AsyncDispatchTCPClient("127.0.0.1", 8000)

    try:
        # Send request
        await client.send_message("/request/sensor_data", "temperature")

        # Handle responses automatically
        await client.handle_messages(timeout=5)
    finally:
        await client.close()

asyncio.run(async_dispatcher_example())
"""

EXAMPLES["ipv6"] = """
from pythonosc import tcp_client
import socket

# IPv6 TCP client
with tcp_client.TCPClient("::1", 8000, family=socket.AF_INET6) as client:
    client.send_message("/ipv6/test", "Hello IPv6 TCP")

    for message in client.receive(timeout=5):
        print(f"IPv6 response: {message.address}")
"""

EXAMPLES["retries"] = """
from pythonosc import tcp_client
import time
import socket

def reliable_tcp_communication():
    client = None
    max_retries = 3
    retry_count = 0

    while retry_count < max_retries:
        try:
            client = tcp_client.SimpleTCPClient("127.0.0.1", 8000)

            # Send message
            client.send_message("/reliable/test", retry_count)

            # Try to receive response
            for message in client.get_messages(timeout=5):
                print(f"Success: {message.address} {message.params}")
                return  # Success, exit function

        except (socket.error, ConnectionRefusedError, socket.timeout) as e:
            print(f"Attempt {retry_count + 1} failed: {e}")
            retry_count += 1

            if client:
                client.close()
                client = None

            if retry_count < max_retries:
                time.sleep(2 ** retry_count)  # Exponential backoff

        finally:
            if client:
                client.close()

    print("All retry attempts failed")

reliable_tcp_communication()
"""

EXAMPLES["batch"] = """
from pythonosc import tcp_client
from pythonosc.osc_bundle_builder import OscBundleBuilder, IMMEDIATELY

# Send multiple messages efficiently
with tcp_client.TCPClient("127.0.0.1", 8000) as client:
    # Create bundle for batch sending
    bundle_builder = OscBundleBuilder(IMMEDIATELY)

    # Add multiple messages
    for i in range(10):
        msg_builder = OscMessageBuilder(f"/batch/message/{i}")
        msg_builder.add_arg(i * 10)
        msg_builder.add_arg(f"Message {i}")
        bundle_builder.add_content(msg_builder.build())

    # Send entire batch as single bundle
    batch_bundle = bundle_builder.build()
    client.send(batch_bundle)
    print("Sent batch of 10 messages in single bundle")
"""

TYPES_AND_IMPORTS = """
from typing import Union, Generator, AsyncGenerator
import socket
import asyncio
from pythonosc.osc_message import OscMessage
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message_builder import ArgValue
from pythonosc.dispatcher import Dispatcher
"""


def _doc_blocks() -> tuple[list[str], list[str]]:
    """The document's example blocks and API blocks (raw text)."""
    text = DOC.read_text(encoding="utf-8")
    examples, api = [], []
    for header, body in re.findall(r"```(python[^\n]*)\n(.*?)```", text, re.S):
        (api if ".api" in header else examples).append(body)
    return examples, api


def _lines(code: str) -> list[str]:
    """Non-blank lines with whitespace runs collapsed (indentation and spacing ignored)."""
    return [" ".join(line.split()) for line in code.splitlines() if line.strip()]


def test_transcriptions_match_the_document() -> None:
    examples, api = _doc_blocks()
    assert [_lines(b) for b in examples] == [_lines(e) for e in EXAMPLES.values()]
    assert _lines(api[-1]) == _lines(TYPES_AND_IMPORTS)


def _port_map(code: str) -> list[str]:
    return sorted(set(re.findall(r"\b(8000|8001|9000)\b", code)))


def _adapt(code: str, ports: dict[str, int]) -> str:
    code = code.replace("pythonosc", "osc_live").replace("192.168.1.100", "127.0.0.1")
    for old, new in ports.items():
        code = re.sub(rf"\b{old}\b", str(new), code)
    if "OscMessageBuilder(" in code and "import OscMessageBuilder" not in code:
        # The document's batch example forgets this import.
        code = "from osc_live.osc_message_builder import OscMessageBuilder\n" + code
    return code


def _sensor_setup(d: Dispatcher) -> None:
    d.map("/request/sensor_data", lambda address, *args: ("/ack", *args))
    d.map("/request/sensor_data", lambda address, *args: ("/data", 21.5))


def _start(code: str, servers: dict[str, RunningServer]) -> subprocess.Popen[str]:
    ports = {old: srv.port for old, srv in servers.items()}
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDEVMODE="1")
    return subprocess.Popen(
        [sys.executable, "-X", "dev", "-c", _adapt(code, ports)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_example_runs_against_real_servers() -> None:
    runs: dict[str, tuple[subprocess.Popen[str], dict[str, RunningServer]]] = {}
    servers_all: list[RunningServer] = []
    refused_port = _free_port()
    try:
        for name, code in EXAMPLES.items():
            if name == "ipv6" and not ipv6_available():
                continue
            servers: dict[str, RunningServer] = {}
            for old in _port_map(code):
                mode = "1.0" if (name == "modes" and old == "8000") else "1.1"
                host = "::1" if name == "ipv6" else "127.0.0.1"
                setup = _sensor_setup if name == "async_dispatcher" else None
                srv = RunningServer("threading", mode=mode, host=host, setup=setup).start()
                servers_all.append(srv)
                servers[old] = srv
            runs[name] = (_start(code, servers), servers)
        # The retry example once more, with nothing listening: three refused attempts.
        refused = subprocess.Popen(
            [
                sys.executable,
                "-X",
                "dev",
                "-c",
                _adapt(EXAMPLES["retries"], {"8000": refused_port}),
            ],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        results: dict[str, tuple[str, str, int]] = {}
        for name, (proc, _servers) in runs.items():
            out, err = proc.communicate(timeout=60)
            results[name] = (out, err, proc.returncode)
        r_out, r_err, r_code = (*refused.communicate(timeout=60), refused.returncode)
        messages = {
            name: {k: s.messages for k, s in srvs.items()} for name, (_, srvs) in runs.items()
        }
    finally:
        for srv in servers_all:
            srv.stop()

    for name, (_out, err, code) in results.items():
        assert code == 0, f"{name} failed:\n{err}"
        assert "Warning" not in err, f"{name} warned:\n{err}"
    _check_outputs(results, messages)
    assert r_code == 0 and "ResourceWarning" not in r_err
    lines = r_out.splitlines()
    assert lines[-1] == "All retry attempts failed"
    assert len([ln for ln in lines if f"127.0.0.1:{refused_port}" in ln]) == 3


def _check_outputs(
    results: dict[str, tuple[str, str, int]], messages: dict[str, dict[str, Any]]
) -> None:
    out = {name: r[0].splitlines() for name, r in results.items()}
    assert out["basic"] == [
        "Response: /echo/synth/note -> [60, 127]",
        "Response: /echo/effect/reverb -> [0.30000001192092896]",
        "Response: /echo/transport/play -> [True]",
    ]
    assert out["context_manager"] == ["Message: /echo/mixer/channel/1/volume [0.800000011920929]"]
    assert messages["modes"]["8000"] == [("/osc10/test", ["OSC 1.0 message"])]
    assert messages["modes"]["8001"] == [("/osc11/test", ["OSC 1.1 message"])]
    assert out["async"] == ["Async response: /echo/async/test -> ['hello', 'world']"]
    assert out["async_context"] == [
        "Message 0: /echo/async/start",
        "Message 1: /echo/async/data",
        "Message 2: /echo/async/end",
    ]
    assert out["async_dispatcher"] == [
        "Async ACK: /ack ('temperature',)",
        "Async data: /data (21.5,)",
    ]
    if "ipv6" in out:
        assert out["ipv6"] == ["IPv6 response: /echo/ipv6/test"]
    assert out["retries"] == ["Success: /echo/reliable/test [0]"]
    assert out["batch"] == ["Sent batch of 10 messages in single bundle"]
    assert messages["batch"]["8000"] == [
        (f"/batch/message/{i}", [i * 10, f"Message {i}"]) for i in range(10)
    ]


def test_types_and_imports_block() -> None:
    namespace: dict[str, Any] = {}
    exec(TYPES_AND_IMPORTS.replace("pythonosc", "osc_live"), namespace)
    assert namespace["Dispatcher"] is Dispatcher


SYNC = [tcp_client.TCPClient, tcp_client.SimpleTCPClient, tcp_client.TCPDispatchClient]
ASYNC = [
    tcp_client.AsyncTCPClient,
    tcp_client.AsyncSimpleTCPClient,
    tcp_client.AsyncDispatchTCPClient,
]


@pytest.mark.parametrize("cls", SYNC + ASYNC, ids=lambda c: c.__name__)
def test_api_blocks_signatures(cls: type) -> None:
    params = inspect.signature(cls.__init__).parameters
    assert list(params)[1:5] == ["address", "port", "family", "mode"]
    assert params["family"].default == socket.AF_INET
    assert params["mode"].default == "1.1" == tcp_client.MODE_1_1
    send_message = inspect.signature(cls.send_message).parameters  # type: ignore[attr-defined]
    assert list(send_message)[1:] == ["address", "value"] and send_message["value"].default == ""
    for name in ("send", "receive", "get_messages", "close"):
        assert callable(getattr(cls, name))
    assert "timeout" in inspect.signature(cls.receive).parameters  # type: ignore[attr-defined]
    if cls in ASYNC:
        assert inspect.iscoroutinefunction(cls.send_message)  # type: ignore[attr-defined]
        assert inspect.iscoroutinefunction(cls.close)  # type: ignore[attr-defined]
        assert hasattr(cls, "__aenter__") and hasattr(cls, "__aexit__")
    else:
        assert hasattr(cls, "__enter__") and hasattr(cls, "__exit__")
    assert isinstance(tcp_client.AsyncDispatchTCPClient.dispatcher, Dispatcher)
    assert tcp_client.MODE_1_0 == "1.0"
