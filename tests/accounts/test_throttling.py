"""The doors anyone may knock on are throttled per address and per account: 429 in the
usual JSON error shape, with Retry-After; in memory by default, in Redis when
RATELIMIT_STORAGE_URI names one (then every process shares the counts)."""

import uuid

import pytest
import redis

from marketplace import create_app
from marketplace.db import db
from marketplace.limits import limiter
from tests.accounts.kit import signup_body
from tests.cast import PASSWORD

REDIS = "redis://127.0.0.1:6379"
PER_ACCOUNT, PER_ADDRESS = 3, 5


def tighten(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "ACCOUNTS_LIMIT_PER_ACCOUNT", f"{PER_ACCOUNT} per minute")
    monkeypatch.setitem(app.config, "ACCOUNTS_LIMIT_PER_ADDRESS", f"{PER_ADDRESS} per minute")


@pytest.fixture
def tight(app, monkeypatch):
    """The limits tightened, the memory storage's counts forgotten before and after."""
    tighten(app, monkeypatch)
    limiter.reset()
    yield app
    limiter.reset()


def address() -> str:
    """An address of this test alone: counts in a shared storage are nobody else's."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def knock(app, path: str, body: dict | None, *, source: str, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().post(
        f"/api/v1{path}", json=body, headers=headers, environ_base={"REMOTE_ADDR": source}
    )


def assert_throttled(answer) -> None:
    assert answer.status_code == 429, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert (error["code"], set(error)) == ("too_many_requests", {"code", "message", "details"})
    assert 0 < int(answer.headers["Retry-After"]) <= 60


def test_sign_in_is_throttled_per_account_from_any_address(tight, cast):
    login = {"email": "li@example.com", "password": PASSWORD}
    for _ in range(PER_ACCOUNT):
        assert knock(tight, "/auth/tokens", login, source=address()).status_code == 201
    assert_throttled(knock(tight, "/auth/tokens", login, source=address()))
    wang = {"email": "wang@example.com", "password": PASSWORD}
    assert knock(tight, "/auth/tokens", wang, source=address()).status_code == 201


@pytest.mark.slow
def test_sign_in_is_throttled_per_address_across_accounts(tight, cast):
    source = address()
    people = ["li", "wang", "zhang", "owner", "reviewer"]
    for person in people[:PER_ADDRESS]:
        login = {"email": f"{person}@example.com", "password": PASSWORD}
        assert knock(tight, "/auth/tokens", login, source=source).status_code == 201
    login = {"email": "client@example.com", "password": PASSWORD}
    assert_throttled(knock(tight, "/auth/tokens", login, source=source))
    assert knock(tight, "/auth/tokens", login, source=address()).status_code == 201


@pytest.mark.slow
@pytest.mark.parametrize(
    "path, body",
    [
        ("/signup", signup_body()),
        ("/password-resets", {"email": "li@example.com"}),
        # No address named: counted per address for both limits.
        ("/password-resets/complete", {"token": "x", "password": "long enough"}),
        ("/signup/verify", {"token": "x"}),
    ],
)
def test_every_door_is_throttled(tight, cast, path, body):
    source = address()
    for _ in range(PER_ACCOUNT):
        assert knock(tight, path, body, source=source).status_code < 429
    assert_throttled(knock(tight, path, body, source=source))


@pytest.mark.slow
def test_verification_mails_are_throttled_per_user(tight, api):
    token = api.post("/signup", json=signup_body()).body["token"]

    def resend():
        return knock(tight, "/signup/verification", None, source=address(), token=token)

    for _ in range(PER_ACCOUNT):
        assert resend().status_code == 202
    assert_throttled(resend())


@pytest.fixture
def redis_app(app, database_url, monkeypatch):
    """The application on the same database, its limiter counting in Redis; the test
    app's memory storage is put back afterwards."""
    # Redis outlives the test: another run's counts (the other engine's, at the same time
    # on another worker, or a suite just before) must not be this one's. The one limiter
    # keeps the first prefix it is given, so the test sets its own (put back afterwards).
    monkeypatch.setattr(limiter, "_key_prefix", f"test-{uuid.uuid4().hex}")
    shared = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
            "RATELIMIT_STORAGE_URI": REDIS,
        }
    )
    tighten(shared, monkeypatch)
    yield shared
    limiter.init_app(app)
    with shared.app_context():
        db.engine.dispose()


@pytest.mark.slow
def test_counts_live_in_redis_when_it_is_configured(redis_app, cast):
    source = address()
    login = {"email": "li@example.com", "password": PASSWORD}
    for _ in range(PER_ACCOUNT):
        assert knock(redis_app, "/auth/tokens", login, source=source).status_code == 201
    assert_throttled(knock(redis_app, "/auth/tokens", login, source=source))
    keys = redis.Redis.from_url(REDIS).keys(f"LIMITS:*{source}*")
    assert keys, "the per-address count is not in Redis"
