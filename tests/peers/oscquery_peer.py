"""OSCQuery peers for the interop tests, run as separate processes (zeroconf between two
processes on loopback).

    python tests/peers/oscquery_peer.py ours NAME        # our server + zeroconf advertisement
    python tests/peers/oscquery_peer.py pyoscquery NAME  # python-oscquery 0.4.0's service

Each prints ``ready <http url> <osc port>`` once announced, then serves until SIGTERM or stdin
closes. python-oscquery binds its HTTP server to all interfaces; here its own server class is
bound to 127.0.0.1 instead (tests stay on loopback), and its zeroconf announcements are made
by its own methods on a loopback Zeroconf.
"""

from __future__ import annotations

import signal
import sys
import threading


def _wait_for_stop() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait(120)


def ours(name: str) -> None:
    from osc_live.oscquery.mdns import Advertisement
    from osc_live.oscquery.namespace import Namespace
    from osc_live.oscquery.server import OscQueryServer

    ns = Namespace()
    ns.add("/synth/freq", "f", value=440.0, range=(20.0, 2000.0), description="frequency")
    ns.add("/synth/gate", "T", value=True)
    server = OscQueryServer(ns, name=name, osc_port=57120)
    with server, Advertisement(name, http_port=server.start().port, osc_port=57120):
        print("ready", server.url, 57120, flush=True)
        _wait_for_stop()


def pyoscquery(name: str) -> None:
    from pythonoscquery.osc_query_service import (
        OSCQueryHTTPHandler,
        OSCQueryHTTPServer,
        OSCQueryService,
    )
    from pythonoscquery.shared.osc_access import OSCAccess
    from pythonoscquery.shared.osc_address_space import OSCAddressSpace
    from pythonoscquery.shared.osc_path_node import OSCPathNode
    from zeroconf import IPVersion, Zeroconf

    space = OSCAddressSpace()
    space.add_node(OSCPathNode("/avatar/volume", OSCAccess.READWRITE_VALUE, 0.5, "volume"))
    space.add_node(OSCPathNode("/avatar/mute", OSCAccess.READWRITE_VALUE, False, "mute"))
    space.add_node(OSCPathNode("/avatar/name", OSCAccess.READONLY_VALUE, "kit", "name"))
    http = OSCQueryHTTPServer(space, None, ("127.0.0.1", 0), OSCQueryHTTPHandler)
    port = http.server_address[1]
    service = OSCQueryService(space, name, port, 9001, "127.0.0.1")
    http.host_info = service.host_info
    worker = threading.Thread(target=http.serve_forever, daemon=True)
    worker.start()
    zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only, use_asyncio=False)
    service._advertise_osc_query_service(zc)
    service._advertise_osc_service(zc)
    print("ready", f"http://127.0.0.1:{port}/", 9001, flush=True)
    try:
        _wait_for_stop()
    finally:
        zc.close()
        http.shutdown()
        http.server_close()


if __name__ == "__main__":
    {"ours": ours, "pyoscquery": pyoscquery}[sys.argv[1]](sys.argv[2])
