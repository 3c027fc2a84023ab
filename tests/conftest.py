"""Suite-wide guards: a test that leaves a thread behind fails."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

# Threads that outlive a test legitimately (interpreter or library internals).
_ALLOWED_PREFIXES = ("pydevd", "asyncio_", "ThreadPoolExecutor", "Dummy-", "IPythonHistory")


def _live_threads() -> set[threading.Thread]:
    return {
        t
        for t in threading.enumerate()
        if t.is_alive() and not t.name.startswith(_ALLOWED_PREFIXES)
    }


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps an asyncio loop running in the main thread for as long as its
    session-scoped browser lives; any asyncio test after it would see a "running" loop.
    """
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None
            or "browser" in item.nodeid.split("/")[:2]
        )
    )


@pytest.fixture(autouse=True)
def no_leaked_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if it started a thread that is still running afterwards."""
    before = _live_threads()
    yield
    if request.node.get_closest_marker("allow_thread_leak"):
        return
    deadline = time.monotonic() + 2.0
    leaked = _live_threads() - before
    while leaked and time.monotonic() < deadline:
        time.sleep(0.02)
        leaked = {t for t in leaked if t.is_alive()}
    assert not leaked, f"test left threads running: {sorted(t.name for t in leaked)}"


class _AsyncioErrors(logging.Handler):
    """Collects what asyncio reports about leaked work (pending tasks destroyed, unretrieved
    task exceptions, unclosed transports reported through the loop's exception handler)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_ASYNCIO_ERRORS = _AsyncioErrors()
logging.getLogger("asyncio").addHandler(_ASYNCIO_ERRORS)


@pytest.fixture(autouse=True)
def no_leaked_tasks() -> Iterator[None]:
    """Fail the test if asyncio reported a destroyed pending task or an unretrieved exception."""
    _ASYNCIO_ERRORS.records.clear()
    yield
    leaked = [r.getMessage() for r in _ASYNCIO_ERRORS.records]
    _ASYNCIO_ERRORS.records.clear()
    assert not leaked, f"asyncio reported leaked work: {leaked}"
