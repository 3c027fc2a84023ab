"""Parsed messages to packets: :func:`build_message`, :func:`build_bundle` (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

from osc_live.commands.registry import CommandError
from osc_live.commands.values import MessageSpec
from osc_live.errors import OscError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.parsing.ntp import IMMEDIATELY_NTP, unix_to_ntp

__all__ = ["build_bundle", "build_message", "network_error"]


def build_message(spec: MessageSpec) -> OscMessage:
    """The :class:`OscMessage` for a parsed ``/address args`` (CommandError if not encodable)."""
    try:
        return OscMessage.from_parts(spec.address, list(spec.args), spec.encode_tags)
    except (OscError, ValueError, TypeError, OverflowError) as exc:
        raise CommandError(f"cannot encode {spec.address}: {exc}".splitlines()[0]) from None


def build_bundle(specs: Sequence[MessageSpec], at: float | None) -> OscBundle:
    """One bundle of ``specs``, timetagged at Unix time ``at`` (None: immediately)."""
    timetag = IMMEDIATELY_NTP if at is None else unix_to_ntp(at)
    return OscBundle.from_contents(timetag, [build_message(s) for s in specs])


def network_error(action: str, exc: BaseException) -> CommandError:
    """A network failure as one line: ``action: first line of the error``."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return CommandError(f"{action}: {text}")
