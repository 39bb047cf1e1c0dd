"""Twitch app access tokens issued by the sandbox: issue, validate, expire and revoke."""

from __future__ import annotations

import random
import string
import threading
from dataclasses import dataclass

_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(slots=True)
class _Issued:
    client_id: str
    issued_at: float
    expires_in: int
    revoked: bool = False


class TokenRegistry:
    """Remembers every token; a token is valid until revoked or ``expires_in`` seconds pass."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:tokens")  # noqa: S311 - fake tokens
        self._tokens: dict[str, _Issued] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str, expires_in: int, now: float) -> str:
        """A new 30-character token for ``client_id``."""
        with self._lock:
            token = "".join(self._rng.choice(_ALPHABET) for _ in range(30))
            self._tokens[token] = _Issued(client_id, now, expires_in)
            return token

    def remaining(self, token: str, now: float, client_id: str | None = None) -> int | None:
        """Seconds left on a valid token (for ``client_id`` when given), else None."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found.revoked:
            return None
        if client_id is not None and found.client_id != client_id:
            return None
        left = found.issued_at + found.expires_in - now
        return int(left) if left > 0 else None

    def revoke_all(self) -> int:
        """Invalidate every token issued so far; returns how many were still live."""
        with self._lock:
            live = [t for t in self._tokens.values() if not t.revoked]
            for issued in live:
                issued.revoked = True
            return len(live)
