"""Signing up through the API, and reading what the outbox holds for an address."""

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from marketplace.db import db
from marketplace.notices.models import OutboxMessage
from tests.support import ApiClient

PASSWORD = "a long enough secret"


def signup_body(kind: str = "client", email: str = "ada@horizon.example", **changes) -> dict:
    return {
        "kind": kind,
        "email": email,
        "name": "Ada",
        "password": PASSWORD,
        "party_name": "Horizon Two" if kind == "client" else "Crane Labs",
        "locale": "en",
        "timezone": "Europe/Berlin",
    } | changes


def sign_up(api: ApiClient, kind: str = "client", email: str = "ada@horizon.example", **changes):
    """Sign up; the answer's body (signup, user, token)."""
    answer = api.post("/signup", json=signup_body(kind, email, **changes))
    assert answer.status == 201, answer.body
    return answer.body


def mails_to(app, address: str) -> list[OutboxMessage]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.to_address == address)
                .order_by(OutboxMessage.id)
            )
        )


def token_in(body: str) -> str:
    """The token of the one link in a mail's body."""
    [link] = [word for word in body.split() if word.startswith("http")]
    return parse_qs(urlsplit(link).query)["token"][0]
