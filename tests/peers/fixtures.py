"""pytest fixtures running the real OSC peers (a pytest plugin: ``tests.peers.fixtures``).

Load it with ``pytest_plugins = ["tests.peers.fixtures"]`` in the top-level conftest, or import
the fixtures a test module needs::

    from tests.peers.fixtures import oscdump_udp, scsynth  # noqa: F401

Fixtures:

* ``scsynth`` (session): :class:`tests.peers.scsynth.Scsynth`, UDP and TCP on 127.0.0.1, with
  ``osclive_sine`` preloaded. Started once per session (it costs ~1 s and ~260 MB with jackd).
* ``oscdump_udp``, ``oscdump_tcp`` (function): :class:`tests.peers.liblo.Oscdump`.
* ``oscsend`` (function): the :func:`tests.peers.liblo.oscsend` runner, after checking that the
  binary exists.

A missing program skips the test, or fails it when ``OSC_LIVE_REQUIRE_PEERS=1`` (as
``scripts/test.sh`` sets). Every fixture here is marked with the ``peers`` marker's meaning: it
needs real third-party programs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.peers.liblo import Oscdump
from tests.peers.liblo import oscsend as _oscsend
from tests.peers.process import require_binaries
from tests.peers.scsynth import Scsynth

SCSYNTH_BINARIES = ("scsynth", "jackd", "jack_wait")


# Test modules that import the fixture each get their own (session-scoped) definition of it;
# they share one running scsynth through this reference count.
_shared: dict[str, Any] = {"server": None, "users": 0}


@pytest.fixture(scope="session")
def scsynth() -> Iterator[Scsynth]:
    """One scsynth + dummy jackd for the whole session; stopped (``/quit``) at the end."""
    require_binaries(*SCSYNTH_BINARIES)
    if _shared["server"] is None:
        _shared["server"] = Scsynth().start()
    _shared["users"] += 1
    try:
        yield _shared["server"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            server, _shared["server"] = _shared["server"], None
            server.stop()


@pytest.fixture
def oscdump_udp() -> Iterator[Oscdump]:
    """``oscdump -L osc.udp://:PORT`` on a free port; send to it on 127.0.0.1."""
    require_binaries("oscdump")
    with Oscdump("udp") as dump:
        yield dump


@pytest.fixture
def oscdump_tcp() -> Iterator[Oscdump]:
    """``oscdump -L osc.tcp://:PORT`` (auto-detects OSC 1.0 / 1.1 framing per connection)."""
    require_binaries("oscdump")
    with Oscdump("tcp") as dump:
        yield dump


@pytest.fixture
def oscsend() -> Callable[..., Any]:
    """``oscsend(port, address, types, *values, proto="udp")``; TCP uses the 1.0 size prefix."""
    require_binaries("oscsend")
    return _oscsend
