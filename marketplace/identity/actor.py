"""Who is calling: a user with roles in parties. Services authorize against it."""

from dataclasses import dataclass

from marketplace.errors import Forbidden
from marketplace.identity.models import Role


@dataclass(frozen=True)
class Actor:
    user_id: int
    roles: frozenset[tuple[int, Role]]  # (party id, role)

    def party_ids(self, *roles: Role) -> set[int]:
        """Parties in which the actor holds any of `roles` (any role if none are named)."""
        return {party for party, role in self.roles if not roles or role in roles}

    def has(self, role: Role, party_id: int | None = None) -> bool:
        return any(r == role and (party_id is None or p == party_id) for p, r in self.roles)

    @property
    def is_platform_admin(self) -> bool:
        return self.has(Role.PLATFORM_ADMIN)

    def require(self, *roles: Role, party_id: int | None = None) -> None:
        """Raise Forbidden unless the actor holds one of `roles` (in `party_id`, if given).

        Call it only after the object was found visible to the actor, so that
        what the actor may not see still answers 404.
        """
        if not any(self.has(role, party_id) for role in roles):
            raise Forbidden(
                "Your role does not allow this.", required_roles=[str(r) for r in roles]
            )
