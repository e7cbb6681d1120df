"""Password login, bearer tokens at rest, logout."""

from sqlalchemy import select

from marketplace.db import db
from marketplace.identity.models import ApiToken
from tests.cast import PASSWORD


def test_logging_in_returns_a_working_token_stored_only_as_a_digest(app, api, cast):
    answer = api.post("/auth/tokens", json={"email": "Li@Example.com ", "password": PASSWORD})
    assert answer.status == 201
    token = answer.body["token"]
    assert token.startswith("pw_") and answer.body["user"]["email"] == "li@example.com"
    me = api.get("/me", token).body
    assert [(m["party_name"], m["role"]) for m in me["memberships"]] == [("Lotus", "annotator")]
    with app.app_context():
        stored = db.session.scalars(select(ApiToken.token_digest)).all()
    assert token not in stored and all(len(digest) == 64 for digest in stored)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(api, cast):
    wrong = api.post("/auth/tokens", json={"email": "li@example.com", "password": "nope"})
    unknown = api.post("/auth/tokens", json={"email": "who@example.com", "password": PASSWORD})
    assert (wrong.status, wrong.error_code) == (unknown.status, unknown.error_code)
    assert (wrong.status, wrong.error_code) == (401, "invalid_credentials")
    assert wrong.body["error"]["message"] == unknown.body["error"]["message"]


def test_logging_out_revokes_only_that_token(api, cast):
    token = api.post("/auth/tokens", json={"email": "li@example.com", "password": PASSWORD})
    token = token.body["token"]
    assert api.delete("/auth/tokens/current", token).status == 204
    refused = api.get("/me", token)
    assert (refused.status, refused.error_code) == (401, "invalid_token")
    assert api.get("/me", cast.li).status == 200


def test_requests_without_a_bearer_token_are_refused(api, cast):
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        answer = api.get("/me", headers=headers)
        assert (answer.status, answer.error_code) == (401, "missing_token")
