"""Shared pieces of the codec: wire structs, limits, bounded caches, address and string bytes.

Private to osc_live; the public faces (``osc_message``, ``osc_message_builder``, ``osc_bundle``)
and the private codec modules (``_parse_plans``, ``_parse_careful``, ``_encode_plans``,
``_encode_careful``, ``_infer``) import from here, never from each other's privates.

Limits (documented in docs/codec.md):

- :data:`PLAN_CACHE_SIZE` plans per cache (parse plans, message heads, encode plans, argument
  type signatures, padded addresses); keys longer than :data:`CACHE_KEY_LIMIT` bytes are never
  cached.  A full cache drops its older half (insertion order), so a peer sending ever new type
  tag strings or addresses costs bounded memory and keeps the most recent ones.
- :data:`GENERATE_AFTER`: a type tag string is handled by the interpreted plan (parse) or the
  careful encoder (encode) until it was seen that many times; only then is a specialised
  function generated for it (tags of at most :data:`GENERATE_MAX_TAGS` letters).  A cold
  string therefore costs the interpreter, not a compilation.
"""

from __future__ import annotations

import struct
from typing import Any, TypeVar

from osc_live.errors import BuildError
from osc_live.parsing import osc_types
from osc_live.parsing.osc_types import INFINITUM

MAX_ARRAY_DEPTH = 32
"""Deepest nesting of ``[`` arrays accepted when parsing or encoding."""

KNOWN_TAGS = frozenset("ihfdsSbcrmtTFNI[]")
"""Every type tag osc_live encodes and decodes."""

PLAN_CACHE_SIZE = 1024
"""Entries per codec cache (see the module doc)."""

CACHE_KEY_LIMIT = 256
"""Longest key (bytes of a type tag string, address or message head) that is cached."""

GENERATE_AFTER = 32
"""Uses of a type tag string before a specialised parser or encoder is generated for it."""

GENERATE_MAX_TAGS = 64
"""Longest type tag string that gets a generated parser or encoder."""

I32 = struct.Struct(">i")
U32 = struct.Struct(">I")
I64 = struct.Struct(">q")
U64 = struct.Struct(">Q")
F32 = struct.Struct(">f")
F64 = struct.Struct(">d")
I32_PACK = I32.pack
F32_PACK = F32.pack
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

CONSTS: dict[str, Any] = {"T": True, "F": False, "N": None, "I": INFINITUM}
"""Tags without argument bytes and the value each stands for."""

FIXED_FORMAT = {"i": "i", "h": "q", "f": "f", "d": "d"}
"""struct format letter of each fixed-width numeric tag."""

_K = TypeVar("_K")
_V = TypeVar("_V")


def bounded_put(cache: dict[_K, _V], key: _K, value: _V) -> None:
    """Store ``key`` in a codec cache, first dropping its older half when it is full."""
    if len(cache) >= PLAN_CACHE_SIZE:
        # pop, not del: another thread may be evicting the same keys (list(dict) itself is
        # one step under the GIL).
        for old in list(cache)[: len(cache) // 2]:
            cache.pop(old, None)
    cache[key] = value


ADDRESSES: dict[str, bytes] = {}
"""Padded wire bytes of recently encoded addresses."""


def encode_address(address: str) -> bytes:
    """The padded wire form of an address, cached.  Raises BuildError."""
    enc = ADDRESSES.get(address)
    if enc is not None:
        return enc
    if not isinstance(address, str):
        raise BuildError(f"an OSC address is a str, got {type(address).__name__}")
    try:
        raw = address.encode()
    except UnicodeEncodeError as exc:
        raise BuildError(f"OSC address {address!r} is not encodable: {exc}") from None
    enc = osc_types.encode_string_bytes(raw, "address")
    if type(address) is str and len(enc) <= CACHE_KEY_LIMIT:
        bounded_put(ADDRESSES, address, enc)
    return enc


def encode_str(value: str, what: str = "string") -> bytes:
    """The padded wire form of an OSC string (or symbol).  Raises BuildError."""
    try:
        raw = value.encode()
    except UnicodeEncodeError as exc:
        raise BuildError(f"OSC {what} {value!r} is not encodable: {exc}") from None
    return osc_types.encode_string_bytes(raw, what)


def numpy_item(value: Any) -> Any:
    """A numpy scalar or array as plain Python (``item()`` / ``tolist()``), else ``value``."""
    if type(value).__module__ == "numpy":
        if getattr(value, "ndim", 0) == 0 and hasattr(value, "item"):
            return value.item()
        if hasattr(value, "tolist"):
            return value.tolist()
    return value
