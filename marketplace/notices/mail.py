"""E-mail: written to the outbox in the unit of work that decides it, sent by SMTP.

A use case (a dunning step, a sign-up, an invite) writes its messages in the same
transaction that records it, so a message exists exactly when the thing it tells
happened. `send_outbox` delivers them one per unit of work: claim (skipping rows
another sender holds), send, mark sent. A crash between the SMTP server's acceptance
and the commit may send one message again; its Message-ID stays the same, so mail
clients show it once.
"""

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock
from marketplace.db import unit_of_work
from marketplace.identity.models import Membership, Role, User
from marketplace.notices.models import OutboxMessage

# After this many failed attempts a message is marked failed and left for an admin.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config) -> "SmtpSettings | None":
        """The app's SMTP settings, or None when SMTP_HOST is unset (mail stays queued)."""
        if not config.get("SMTP_HOST"):
            return None
        return cls(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            sender=config["MAIL_FROM"],
            username=config.get("SMTP_USERNAME"),
            password=config.get("SMTP_PASSWORD"),
            starttls=bool(config.get("SMTP_STARTTLS")),
        )


def recipients(session: Session, party_id: int, role: Role) -> list[User]:
    """The users who hold `role` in the party, in id order."""
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.party_id == party_id, Membership.role == role)
            .order_by(User.id)
        ).unique()
    )


def platform_admins(session: Session) -> list[User]:
    """The platform's admins, in id order."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.id.in_(
                    select(Membership.user_id).where(Membership.role == Role.PLATFORM_ADMIN)
                )
            )
            .order_by(User.id)
        )
    )


def queue(
    session: Session,
    to_address: str,
    subject: str,
    body: str,
    *,
    invoice_id: int | None = None,
    dunning_action_id: int | None = None,
) -> OutboxMessage:
    """Write one message to the outbox, to be sent after this unit of work commits."""
    message = OutboxMessage(
        to_address=to_address,
        subject=subject[:300],
        body=body,
        invoice_id=invoice_id,
        dunning_action_id=dunning_action_id,
        attempts=0,
        failed=False,
    )
    session.add(message)
    return message


def send_outbox(
    settings: SmtpSettings, *, on_each: Callable[[OutboxMessage], None] | None = None
) -> dict[str, int]:
    """Send every queued message once, oldest first; count the attempts sent or failed.

    Each message is its own unit of work, so a crash loses nothing: what was not marked
    sent is sent by the next run. A refusal of one message (its recipient, its content)
    does not hold back the rest: a temporary one is retried by later runs, up to
    MAX_ATTEMPTS, a permanent one (5xx) fails the message at once. A server that cannot
    be reached or refuses us (connection, login, sender) stops the run and fails
    nothing: every message waits for the next run.
    """
    counts = {"sent": 0, "failed": 0}
    seen: set[int] = set()
    while True:
        with unit_of_work() as session:
            message = _claim_next(session, seen)
            if message is None:
                return counts
            seen.add(message.id)
            message.attempts += 1
            try:
                _deliver(settings, message)
            except MESSAGE_REFUSED as error:
                message.last_error = _described(error)
                message.failed = _permanent(error) or message.attempts >= MAX_ATTEMPTS
            except (smtplib.SMTPException, OSError) as error:  # the server, not the message
                message.last_error = _described(error)
                counts["failed"] += 1
                return counts
            else:
                message.sent_at = clock.now()
            counts["sent" if message.sent_at else "failed"] += 1
            if on_each:
                on_each(message)


# Refusals of one message; an address no SMTP server can take is refused for good.
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, UnicodeError)


def _permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return getattr(error, "smtp_code", 500) >= 500


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def requeue_failed(session: Session) -> int:
    """Give every failed message another MAX_ATTEMPTS (after a fix at the server or of an
    address); how many."""
    messages = session.scalars(select(OutboxMessage).where(OutboxMessage.failed.is_(True))).all()
    for message in messages:
        message.failed, message.attempts = False, 0
    return len(messages)


def _claim_next(session: Session, seen: set[int]) -> OutboxMessage | None:
    """The oldest unsent message this run has not tried, locked against other senders."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False))
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if seen:
        query = query.where(OutboxMessage.id.not_in(seen))
    return session.scalar(query)


def _deliver(settings: SmtpSettings, message: OutboxMessage) -> None:
    email = EmailMessage()
    email["From"] = settings.sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    # The same id on every attempt: a message sent twice after a crash reads as one.
    email["Message-ID"] = f"<outbox-{message.id}.{message.created_at:%Y%m%d%H%M%S}@piecework>"
    email.set_content(message.body)
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            # Verify the server's certificate and name before the password goes over.
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        # SMTP's own policy: CRLF lines, and a body line "From ..." sent as written.
        smtp.sendmail(settings.sender, [message.to_address], email.as_bytes(policy=policy.SMTP))
