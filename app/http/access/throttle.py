"""Throttling failed logins, per username and per address, in the database (shared by replicas).

After `per_user` failures for one username, or `per_address` from one address, within
`window`, logins for it answer 429 with Retry-After until the window ends. A success
clears the username's count (not the address's: one good password must not reset a spray).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from app.store import Store


class LoginThrottle:
    def __init__(self, store: Store, clock: Callable[[], datetime], per_user: int = 5,
                 per_address: int = 20, window: timedelta = timedelta(minutes=15)) -> None:  # fmt: skip
        self.store, self.clock = store, clock
        self.per_user, self.per_address, self.window = per_user, per_address, window

    @staticmethod
    def _keys(username: str, address: str | None) -> tuple[str, str]:
        return f"user:{username[:200].lower()}", f"addr:{address or '-'}"

    def retry_after(self, username: str, address: str | None) -> int | None:
        """Seconds to wait when this login is throttled, else None."""
        user_key, addr_key = self._keys(username, address)
        since = self.clock() - self.window
        if (
            self.store.throttle.failures([user_key], since) >= self.per_user
            or self.store.throttle.failures([addr_key], since) >= self.per_address
        ):
            return int(self.window.total_seconds())
        return None

    def failed(self, username: str, address: str | None) -> None:
        now = self.clock()
        self.store.throttle.record(list(self._keys(username, address)), now, now - self.window)

    def succeeded(self, username: str) -> None:
        self.store.throttle.clear(self._keys(username, None)[0])
