"""Sign-ups awaiting (or past) an admin's decision, and one-time tokens sent by e-mail."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity, UTCDateTime
from marketplace.identity.models import Party, User


class SignupStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class Signup(Entity, Base):
    """A party that signed itself up, and where its application stands.

    Approved at once unless the platform asks an admin to approve new clients
    (SIGNUP_APPROVAL=clients); until then the client may not publish an order. Parties
    an operator made have no sign-up and need no approval.
    """

    __tablename__ = "signups"

    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), unique=True)
    # The first user: the client's admin or the team's owner.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # An admin's reason for refusing (or a note on approving); shown to the applicant.
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None when no approval was asked for (approved at sign-up).
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    party: Mapped[Party] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class OneTimeToken(Entity, Base):
    """A secret sent in an e-mail link, stored only as its digest; good once, until it
    expires. Using one uses up the user's other tokens of that purpose too; asking for
    another leaves the older ones live, so a mail that arrives late is not a dead link."""

    __tablename__ = "one_time_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
