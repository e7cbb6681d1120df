"""Who is calling: a user with roles in parties. Services authorize against it."""

from dataclasses import dataclass

from marketplace.errors import Forbidden, Invalid, NotFound
from marketplace.identity.models import Role


@dataclass(frozen=True)
class Actor:
    user_id: int
    roles: frozenset[tuple[int, Role]]  # (party id, role)
    # Where the actor acts from, for the audit log: "api", or "cli" for an admin named
    # on the command line.
    via: str = "api"
    # Whether the user proved her e-mail address (see accounts/signup.py).
    verified: bool = True

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

    def require_verified(self) -> None:
        """Raise Forbidden (`email_not_verified`) until the user verified her e-mail address:
        an account from a sign-up may not publish orders nor claim work before that."""
        if not self.verified:
            raise Forbidden(
                "Verify your e-mail address first: follow the link we sent you, or ask for "
                "another (POST /api/v1/signup/verification).",
                code="email_not_verified",
            )

    def acting_for(self, role: Role, requested: int | None, what: str) -> int:
        """The party the actor acts for in `role`: the requested one, or its only one.

        404 for a party it does not act for; 422 with the choices if it acts for
        several and named none.
        """
        parties = self.party_ids(role)
        if requested is not None:
            if requested not in parties:
                raise NotFound(f"No {what} {requested} that you act for.", code=f"{what}_not_found")
            return requested
        if len(parties) != 1:
            raise Invalid(
                f"Name the {what} you act for.", code=f"{what}_required", choices=sorted(parties)
            )
        return next(iter(parties))
