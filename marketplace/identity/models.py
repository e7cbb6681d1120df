"""Users, parties, memberships with roles, API tokens, credit holds and lines, the audit log."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity, Id, UTCDateTime


class PartyKind(enum.StrEnum):
    CLIENT = "client"
    TEAM = "team"
    PLATFORM = "platform"


class Role(enum.StrEnum):
    CLIENT_ADMIN = "client_admin"
    TEAM_OWNER = "team_owner"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"
    PLATFORM_ADMIN = "platform_admin"


# The roles of a team's members.
TEAM_ROLES = (Role.TEAM_OWNER, Role.REVIEWER, Role.ANNOTATOR)

ROLES_BY_PARTY_KIND = {
    PartyKind.CLIENT: {Role.CLIENT_ADMIN},
    PartyKind.TEAM: {Role.TEAM_OWNER, Role.REVIEWER, Role.ANNOTATOR},
    PartyKind.PLATFORM: {Role.PLATFORM_ADMIN},
}


class Party(Entity, Base):
    """An organization that holds money on the platform."""

    __tablename__ = "parties"

    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # Where the manual gateway's payout file sends this party's money.
    bank_account: Mapped[str | None] = mapped_column(String(100))
    # Its Stripe Connect account (acct_...), where Stripe payout runs send its money.
    stripe_account: Mapped[str | None] = mapped_column(String(100))
    # Where a team's day begins and ends: daily quotas and earnings days count in it.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")


class User(Entity, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Where the manual gateway's payout file sends this annotator's money.
    bank_account: Mapped[str | None] = mapped_column(String(100))
    stripe_account: Mapped[str | None] = mapped_column(String(100))
    # How numbers are written for this user (CSV statements): a CLDR locale such as zh_CN.
    locale: Mapped[str] = mapped_column(String(35), default="zh_CN")
    # Set when the user proved the address is hers; until then she may not publish an
    # order nor claim work. Users made by an operator or an accepted invite start verified.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Wrong passwords since the last sign-in; enough of them lock sign-in until locked_until.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", lazy="selectin", order_by="Membership.id"
    )


class Membership(Entity, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "party_id", "role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    # Set while the team's owner has her deactivated: she takes no work; her money stays hers.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship(back_populates="memberships")
    party: Mapped[Party] = relationship(lazy="joined")


class ApiToken(Entity, Base):
    """A bearer token, stored only as its SHA-256 digest."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: until revoked. A token past it no longer authenticates.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CreditHold(Entity, Base):
    """A client stopped from posting orders and from having its drops released.

    Placed by an admin or by the dunning schedule; lifted by an admin, or by itself
    (`lifts_when_paid`) once the client owes nothing overdue. At most one is active
    per client; lifted holds stay as its history.
    """

    __tablename__ = "credit_holds"
    __table_args__ = (
        Index(
            "ix_credit_holds_one_active",
            "party_id",
            unique=True,
            sqlite_where=text("lifted_at IS NULL"),
            postgresql_where=text("lifted_at IS NULL"),
        ),
    )

    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    # None when the dunning schedule placed it.
    placed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifts_when_paid: Mapped[bool] = mapped_column(Boolean)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lift_reason: Mapped[str | None] = mapped_column(String(500))


class CreditLine(Entity, Base):
    """A client an admin trusts with pay-when-paid (invoiced) orders, up to a limit in one
    currency: what it owes and what its released work will cost together. New clients
    have none, and fund their orders first."""

    __tablename__ = "credit_lines"
    __table_args__ = (
        UniqueConstraint("party_id", "currency"),
        CheckConstraint("limit_minor > 0", name="positive_limit"),
    )

    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    currency: Mapped[str] = mapped_column(String(3))
    limit_minor: Mapped[int] = mapped_column(BigInteger)
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")


class AuditEntry(Entity, Base):
    """One admin action: who (a user, or the command line), when (`created_at`), what."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Where it came from: "api", "cli" or "scheduler".
    source: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Id)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
