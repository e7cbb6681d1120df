"""A user's own API tokens: named, expiring if she says so, revoked by her; the secret is
shown once."""

from datetime import timedelta

import pytest

from marketplace import clock

pytestmark = pytest.mark.slow


def test_a_user_creates_lists_and_revokes_her_tokens(app, api, cast, frozen_clock):
    expires = (clock.now() + timedelta(days=30)).isoformat()
    created = api.post("/me/tokens", cast.owner, {"name": "night claimer", "expires_at": expires})
    assert created.status == 201
    secret = created.body["token"]
    assert (created.body["name"], created.body["revoked_at"]) == ("night claimer", None)
    assert api.get("/me", secret).body["id"] == cast.user_ids["owner"]

    listed = api.get("/me/tokens", cast.owner).body
    assert [(t["name"], t["expires_at"] is not None) for t in listed] == [
        ("", False),  # the cast's own
        ("night claimer", True),
    ]
    assert all("token" not in t for t in listed)
    assert created.body["id"] not in [t["id"] for t in api.get("/me/tokens", cast.li).body]

    stolen = api.delete(f"/me/tokens/{created.body['id']}", cast.li)
    assert (stolen.status, stolen.error_code) == (404, "token_not_found")
    assert api.delete(f"/me/tokens/{created.body['id']}", cast.owner).status == 204
    assert api.get("/me", secret).error_code == "invalid_token"
    assert api.get("/me/tokens", cast.owner).body[1]["revoked_at"] is not None
    assert api.delete(f"/me/tokens/{created.body['id']}", cast.owner).status == 204


def test_an_expired_token_stops_working(app, api, cast, frozen_clock):
    expires = (clock.now() + timedelta(hours=1)).isoformat()
    secret = api.post("/me/tokens", cast.owner, {"name": "ci", "expires_at": expires}).body["token"]
    frozen_clock.step(minutes=59)
    assert api.get("/me", secret).status == 200
    frozen_clock.step(minutes=1)
    assert api.get("/me", secret).error_code == "invalid_token"
    past = api.post("/me/tokens", cast.owner, {"name": "ci", "expires_at": expires})
    assert (past.status, past.error_code) == (422, "expiry_not_in_future")
    forever = api.post("/me/tokens", cast.owner, {"name": "ci"})
    assert (forever.status, forever.body["expires_at"]) == (201, None)
