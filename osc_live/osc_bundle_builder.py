"""Build OSC bundles: python-osc's ``OscBundleBuilder`` (contents are not re-parsed)."""

from __future__ import annotations

from osc_live.errors import BuildError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.parsing import osc_types

__all__ = ["IMMEDIATELY", "BuildError", "OscBundleBuilder"]

IMMEDIATELY = osc_types.IMMEDIATELY
"""Timestamp meaning "handle now" (0)."""
_IMMEDIATELY_NTP = osc_types.timetag_to_ntp(IMMEDIATELY)  # 1


class OscBundleBuilder:
    """Builds OscBundle instances."""

    def __init__(self, timestamp: float) -> None:
        """A builder for a bundle due at ``timestamp``: Unix seconds or ``IMMEDIATELY``
        (also a datetime or a ``TimeTag``)."""
        self._timestamp = timestamp
        self._contents: list[OscBundle | OscMessage] = []

    def add_content(self, content: OscBundle | OscMessage) -> None:
        """Add a message or a bundle."""
        self._contents.append(content)

    def build(self) -> OscBundle:
        """Build the OscBundle. Raises BuildError."""
        timestamp = self._timestamp
        if type(timestamp) is int and timestamp == 0:  # IMMEDIATELY: the common case
            return OscBundle.from_contents(_IMMEDIATELY_NTP, self._contents)
        return OscBundle.from_contents(osc_types.timetag_to_ntp(timestamp), self._contents)
