"""Helpers of the invite tests: an owner's invite, the token its mail carries, accepting."""

import re

from sqlalchemy import select

from marketplace.db import db
from marketplace.notices.models import OutboxMessage
from tests.support import ApiClient, Response

# An invite's token as its mail carries it: the prefix and 32 random bytes in base64url.
TOKEN = re.compile(r"inv_[A-Za-z0-9_-]{43}")
PASSWORD = "plum blossom 2026"


def invite(api: ApiClient, token: str, team_id: int, email: str, **body) -> Response:
    """The owner (`token`) invites `email` to `team_id`, as an annotator unless told."""
    return api.post(
        f"/teams/{team_id}/invites", token, {"email": email, "role": "annotator"} | body
    )


def invited(api: ApiClient, cast, email: str, *, team: str = "lotus", **body) -> dict:
    """The team's owner invites `email`; the invite as the API shows it."""
    owner = cast.owner if team == "lotus" else cast.rival_owner
    answer = invite(api, owner, cast.party_ids[team], email, **body)
    assert answer.status == 201, answer.body
    return answer.body


def mailed_token(app, email: str) -> str:
    """The token in the latest mail queued to `email`."""
    with app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body)
            .where(OutboxMessage.to_address == email)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    return TOKEN.search(body).group()


def accept(api: ApiClient, token: str, bearer: str | None = None, **body) -> Response:
    return api.post("/invites/accept", bearer, {"token": token} | body)


def newcomer(api: ApiClient, token: str, name: str = "Mei", locale: str = "zh-CN") -> dict:
    """A person new to Piecework accepts; the answer (her bearer token, her user)."""
    answer = accept(api, token, name=name, password=PASSWORD, locale=locale)
    assert answer.status == 201, answer.body
    return answer.body
