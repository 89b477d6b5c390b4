"""Stable hashes: the same value for the same parts in every process, on every machine, in every release.

Scheduling slots, demo sample ids, the simulated platform and the fake platform server all derive their
"random" choices from ``blake2b`` of a few parts, never from Python's salted ``hash()`` or a global RNG, so
re-runs and backfills reproduce the same rows. :class:`StableHash` is that one implementation; its
``person`` and ``separator`` keep two families of values apart:

* :data:`STABLE` (no personalisation, parts joined by ``|``): scheduling slots and offsets, demo sample videos;
* :data:`SIMULATION` (``person=b"viewtrail-sim"``, parts joined by ``\\x1f``): the simulated platform and the
  fake platform server. Its values are compared by the tests with stored ones and must never change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["SIMULATION", "STABLE", "StableHash"]


@dataclass(frozen=True, slots=True)
class StableHash:
    """``blake2b`` of ``separator.join(map(str, parts))`` under ``person``."""

    person: bytes = b""
    separator: str = "|"

    def digest(self, *parts: object, size: int = 16) -> bytes:
        """``size`` bytes (blake2b's digest size is part of the hash: 8 bytes are not a prefix of 16)."""
        text = self.separator.join(map(str, parts))
        return hashlib.blake2b(text.encode("utf-8"), digest_size=size, person=self.person).digest()

    def integer(self, *parts: object, size: int = 8) -> int:
        """The digest of ``size`` bytes as a big-endian unsigned integer."""
        return int.from_bytes(self.digest(*parts, size=size), "big")

    def unit(self, *parts: object) -> float:
        """A uniform number in [0, 1): the first 8 bytes of the 16-byte digest over 2**64."""
        return int.from_bytes(self.digest(*parts)[:8], "big") / 2.0**64


STABLE = StableHash()
SIMULATION = StableHash(person=b"viewtrail-sim", separator="\x1f")
