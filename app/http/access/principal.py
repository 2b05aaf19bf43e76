"""Who is asking, and the pure rules for what a role and a set of scopes allow."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("viewer", "editor", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a route needs: at least `role`, and with a scoped API key the scope `area:verb`."""

    role: str
    area: str
    verb: str  # read | write

    @property
    def scope(self) -> str:
        return f"{self.area}:{self.verb}"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str | None  # None: anonymous
    via: str  # anonymous | session | key | metrics
    scopes: tuple[str, ...] = ()
    session_hash: str | None = field(default=None, repr=False)

    @property
    def anonymous(self) -> bool:
        return self.role is None

    def has_role(self, role: str) -> bool:
        return self.role is not None and RANK[self.role] >= RANK[role]

    def allows(self, need: Requirement) -> bool:
        """Role first; a key with scopes must also hold the route's scope (write implies read)."""
        if not self.has_role(need.role):
            return False
        if self.via != "key" or not self.scopes:
            return True
        return need.scope in self.scopes or (need.verb == "read" and f"{need.area}:write" in self.scopes)


ANONYMOUS = Principal("anonymous", None, "anonymous")
