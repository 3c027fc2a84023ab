"""Zeroconf (mDNS/DNS-SD): announce OSC and OSCQuery services, and find them.

::

    ad = Advertisement("my synth", http_port=5678, osc_port=57120).start()
    ad.names            # {"_oscjson._tcp.local.": "my synth", "_osc._udp.local.": "my synth"}
    for service in browse(timeout=1.0):
        print(service.name, service.url)
    ad.close()

Service types: ``_oscjson._tcp`` (an OSCQuery HTTP server, the proposal's), ``_osc._udp`` and
``_osc._tcp`` (a plain OSC receiver, as TouchOSC and others announce). Instance names are made
unique on the network: a name already taken gets ``-2``, ``-3``... (zeroconf's probing).

Loopback by default: the multicast socket and the announced address are 127.0.0.1, so nothing
leaves the machine and other programs on it see the services. ``lan=True`` announces on every
IPv4 interface with the machine's addresses (an explicit opt-in: the LAN then sees and can
reach the services). Registration takes about 1.6 s (name probing, done for all types at
once); browsing finds loopback services in about 0.1 s.

Needs ``zeroconf`` (``pip install osc-live[discovery]``), imported on first use. Every
Zeroconf instance made here is closed by :meth:`Advertisement.close` / at the end of
:func:`browse` (no thread or socket is left).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from osc_live._net import format_address

__all__ = [
    "OSCJSON",
    "OSC_TCP",
    "OSC_UDP",
    "Advertisement",
    "Service",
    "browse",
    "default_name",
    "import_zeroconf",
]

OSCJSON = "_oscjson._tcp.local."
OSC_UDP = "_osc._udp.local."
OSC_TCP = "_osc._tcp.local."
TYPES = (OSCJSON, OSC_UDP, OSC_TCP)

_MAX_LABEL = 63  # bytes of a DNS label (the instance name)
_PRECHECK = 0.25  # seconds spent looking for names already taken before registering


def import_zeroconf() -> Any:
    """The ``zeroconf`` package, or ImportError saying which extra installs it."""
    try:
        import zeroconf
    except ImportError:
        raise ImportError(
            "discovery needs the 'zeroconf' package: pip install 'osc-live[discovery]'"
        ) from None
    return zeroconf


def default_name() -> str:
    """A name unique to this process: ``osc_live-<host>-<pid>``."""
    host = socket.gethostname().split(".")[0] or "host"
    return _label(f"osc_live-{host}-{os.getpid()}")


def _label(name: str) -> str:
    data = name.strip().replace(".", "_").encode("utf-8")[:_MAX_LABEL]
    return data.decode("utf-8", "ignore") or "osc_live"


def _free_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... the first one not in ``taken`` (lower case)."""
    candidate, number = name, 2
    while candidate.lower() in taken:
        suffix = f"-{number}"
        candidate = _label(
            name.encode("utf-8")[: _MAX_LABEL - len(suffix)].decode("utf-8", "ignore") + suffix
        )
        number += 1
    return candidate


def _zeroconf(lan: bool, unicast: bool = False) -> Any:
    """A Zeroconf instance with its own thread (never the kernel's loop). ``unicast``: query
    from an ephemeral port, so responders answer this process directly (on loopback several
    processes share port 5353, and a unicast answer to it reaches only one of them)."""
    zc = import_zeroconf()
    interfaces = zc.InterfaceChoice.All if lan else ["127.0.0.1"]
    return zc.Zeroconf(
        interfaces=interfaces,
        ip_version=zc.IPVersion.V4Only,
        unicast=unicast,
        use_asyncio=False,
    )


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (what ``lan=True`` announces)."""
    import ifaddr  # a dependency of zeroconf

    out: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                out.append(ip.ip)
    return out


@dataclass(frozen=True)
class Service:
    """One service found by :func:`browse`."""

    name: str
    type: str
    host: str
    port: int
    addresses: tuple[str, ...] = ()
    server: str = ""
    properties: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``"oscquery"`` for ``_oscjson._tcp``, ``"osc"`` for ``_osc._udp``/``_osc._tcp``."""
        return "oscquery" if self.type == OSCJSON else "osc"

    @property
    def transport(self) -> str:
        """``"udp"`` or ``"tcp"`` (OSCQuery servers speak HTTP over TCP)."""
        return "udp" if self.type == OSC_UDP else "tcp"

    @property
    def url(self) -> str:
        """``http://host:port/`` for OSCQuery, ``udp://host:port`` / ``tcp://host:port``."""
        where = format_address(self.host, self.port)
        if self.kind == "oscquery":
            return f"http://{where}/"
        return f"{self.transport}://{where}"


class Advertisement:
    """Announces one OSC endpoint and/or its OSCQuery server over zeroconf.

    ``http_port``: the OSCQuery server (``_oscjson._tcp``); ``osc_port`` with
    ``osc_transports`` (``"udp"``, ``"tcp"``): the OSC receiver (``_osc._udp`` /
    ``_osc._tcp``). ``properties``: TXT record entries added to each.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        http_port: int | None = None,
        osc_port: int | None = None,
        osc_transports: Iterable[str] = ("udp",),
        lan: bool = False,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        self.requested_name = _label(name) if name else default_name()
        self.http_port = http_port
        self.osc_port = osc_port
        self.osc_transports = tuple(t.lower() for t in osc_transports)
        for transport in self.osc_transports:
            if transport not in ("udp", "tcp"):
                raise ValueError(f"OSC transport is udp or tcp, got {transport!r}")
        self.lan = lan
        self.properties = dict(properties or {})
        #: service type -> the instance name it got (after any renaming)
        self.names: dict[str, str] = {}
        self._zc: Any = None
        self._infos: list[Any] = []

    @property
    def name(self) -> str:
        """The instance name as registered (the OSCQuery one when there is one)."""
        if OSCJSON in self.names:
            return self.names[OSCJSON]
        return next(iter(self.names.values()), self.requested_name)

    @property
    def addresses(self) -> list[str]:
        """The IPv4 addresses announced."""
        return lan_addresses() if self.lan else ["127.0.0.1"]

    def _kinds(self) -> list[tuple[str, int]]:
        wanted: list[tuple[str, int]] = []
        if self.http_port is not None:
            wanted.append((OSCJSON, self.http_port))
        if self.osc_port is not None:
            for transport in self.osc_transports:
                wanted.append((OSC_UDP if transport == "udp" else OSC_TCP, self.osc_port))
        return wanted

    def _infos_for(self, wanted: list[tuple[str, int]]) -> list[Any]:
        zc = import_zeroconf()
        addresses = self.addresses
        if not addresses:
            raise OSError("no network address to announce on the LAN")
        host = socket.gethostname().split(".")[0] if self.lan else self.requested_name
        server = _label(host).replace(" ", "-") + ".local."
        props = {"txtvers": "1", **self.properties}
        return [
            zc.ServiceInfo(
                kind,
                f"{self.requested_name}.{kind}",
                port=port,
                properties=props,
                server=server,
                parsed_addresses=addresses,
            )
            for kind, port in wanted
        ]

    def start(self, timeout: float = 10.0) -> Advertisement:
        """Register every service (probing for unique names, all at once); returns when the
        names are settled. OSError/TimeoutError when it cannot."""
        if self._zc is not None:
            return self
        kinds = self._kinds()
        if not kinds:
            raise ValueError("nothing to advertise: give http_port and/or osc_port")
        # Probing alone does not find every conflict on loopback (a defender answers a probe
        # by unicast to port 5353, which several processes share), so ask first
        taken = {
            s.name.lower() for s in browse(_PRECHECK, lan=self.lan, types=[k for k, _ in kinds])
        }
        self.requested_name = _free_name(self.requested_name, taken)
        infos = self._infos_for(kinds)
        self._zc = _zeroconf(self.lan)
        loop = self._zc.loop

        async def register() -> None:
            await asyncio.gather(
                *(self._zc.async_register_service(info, allow_name_change=True) for info in infos)
            )

        future = asyncio.run_coroutine_threadsafe(register(), loop)
        try:
            future.result(timeout)
        except BaseException:
            future.cancel()
            self.close()
            raise
        self._infos = infos
        self.names = {info.type: info.name[: -len(info.type) - 1] for info in infos}
        return self

    def close(self) -> None:
        """Withdraw the services (goodbye packets) and close the zeroconf instance."""
        zc, self._zc = self._zc, None
        if zc is None:
            return
        with contextlib.suppress(Exception):
            zc.unregister_all_services()
        zc.close()
        self._infos = []

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`close`."""
        return self._zc is not None

    def __enter__(self) -> Advertisement:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "LAN" if self.lan else "loopback"
        return f"<Advertisement {self.name!r} {sorted(self.names)} on {where}>"


def browse(
    timeout: float = 2.0, *, lan: bool = False, types: Iterable[str] = TYPES
) -> list[Service]:
    """The services of ``types`` found within ``timeout`` seconds (sorted by name, type).

    Loopback only unless ``lan``. Returns after ``timeout`` plus at most one more second to
    resolve what was found (addresses, port, TXT).
    """
    zc_module = import_zeroconf()
    wanted = list(types)
    seen: dict[tuple[str, str], None] = {}
    lock = threading.Lock()

    class Listener(zc_module.ServiceListener):  # type: ignore[misc, name-defined]
        def add_service(self, zc: Any, type_: str, name: str) -> None:
            with lock:
                seen[(type_, name)] = None

        def update_service(self, zc: Any, type_: str, name: str) -> None:
            self.add_service(zc, type_, name)

        def remove_service(self, zc: Any, type_: str, name: str) -> None:
            with lock:
                seen.pop((type_, name), None)

    zc = _zeroconf(lan, unicast=True)
    try:
        browser = zc_module.ServiceBrowser(zc, wanted, listener=Listener())
        try:
            time.sleep(max(timeout, 0.0))
        finally:
            browser.cancel()
        with lock:
            keys = list(seen)
        deadline = time.monotonic() + 1.0
        found: list[Service] = []
        for type_, name in keys:
            left = int(max(deadline - time.monotonic(), 0.05) * 1000)
            info = zc.get_service_info(type_, name, timeout=left)
            if info is None or info.port is None:
                continue
            addresses = tuple(info.parsed_addresses(zc_module.IPVersion.V4Only))
            if not addresses:
                continue
            host = "127.0.0.1" if "127.0.0.1" in addresses else addresses[0]
            found.append(
                Service(
                    name=name[: -len(type_) - 1],
                    type=type_,
                    host=host,
                    port=int(info.port),
                    addresses=addresses,
                    server=str(info.server or ""),
                    properties=dict(info.decoded_properties),
                )
            )
    finally:
        zc.close()
    found.sort(key=lambda s: (s.name.lower(), s.type))
    return found
