"""OSCQuery (the Vidvox proposal) and zeroconf discovery.

::

    from osc_live import oscquery

    ns = oscquery.Namespace()
    ns.add("/fx/reverb", "f", value=0.3, range=(0.0, 1.0), description="reverb")
    server = oscquery.OscQueryServer(ns, name="my synth", osc_port=57120).start()
    ad = oscquery.Advertisement("my synth", http_port=server.port, osc_port=57120).start()

    for service in oscquery.browse(timeout=1.0):      # what is announced on this machine
        print(service.name, service.url)
    remote = oscquery.describe("http://127.0.0.1:5678/")   # HOST_INFO + tree, bounded
    print(oscquery.format_tree(remote.root))

The model, the namespace and the client use the standard library only. The server needs
``websockets`` and discovery needs ``zeroconf`` (``pip install 'osc-live[discovery]'``); both
are imported when first used, never by ``import osc_live.oscquery``.
"""

from __future__ import annotations

from osc_live.oscquery import discovery
from osc_live.oscquery._decode import Limits
from osc_live.oscquery.client import (
    OscQueryError,
    Remote,
    ServerUrl,
    describe,
    fetch,
    host_info,
    parse_url,
    query,
)
from osc_live.oscquery.discovery import Found, discover
from osc_live.oscquery.mdns import Advertisement, Service, browse
from osc_live.oscquery.model import HostInfo, Node, Range
from osc_live.oscquery.namespace import Change, Namespace, NodeSpec
from osc_live.oscquery.server import OscQueryServer
from osc_live.oscquery.tree import format_tree

__all__ = [
    "Advertisement",
    "Change",
    "Found",
    "HostInfo",
    "Limits",
    "Namespace",
    "Node",
    "NodeSpec",
    "OscQueryError",
    "OscQueryServer",
    "Range",
    "Remote",
    "ServerUrl",
    "Service",
    "browse",
    "describe",
    "discover",
    "discovery",
    "fetch",
    "format_tree",
    "host_info",
    "parse_url",
    "query",
]
