"""Test harness: every database test runs on a real SQLite file and a real PostgreSQL.

PostgreSQL is the server at TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432);
the session creates its own database and drops it at the end. With CI=true an
unreachable server fails the run; elsewhere its tests are skipped and the reason
is printed at the end.
"""

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text

from marketplace import clock, create_app
from marketplace.db import Base, db
from marketplace.models import load_all_models
from tests.support import ApiClient, FrozenClock

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
_pg_skip_reason: list[str] = []


def pytest_addoption(parser):
    parser.addoption(
        "--engines",
        default="sqlite,postgresql",
        help="comma-separated database engines to run database tests on",
    )


def pytest_generate_tests(metafunc):
    if "engine_name" in metafunc.fixturenames:
        engines = metafunc.config.getoption("--engines").split(",")
        only = metafunc.definition.get_closest_marker("only_engine")
        if only:
            engines = [engine for engine in engines if engine == only.args[0]]
        metafunc.parametrize("engine_name", engines, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    """Under xdist (`make test` runs a worker a core), the tests pinned to one engine, the
    concurrency tests among them, share one worker: two of them at once would open more
    PostgreSQL connections than the server allows."""
    for item in items:
        if item.get_closest_marker("only_engine"):
            item.add_marker(pytest.mark.xdist_group("many_connections"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    """After the short summary: one line that says why PostgreSQL did not run."""
    yield
    if _pg_skip_reason:
        terminalreporter.write_line(f"PostgreSQL tests skipped: {_pg_skip_reason[0]}")


def migrate(url: str) -> None:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def engine_name(request):
    return request.param


@pytest.fixture(scope="session")
def database_url(engine_name, tmp_path_factory):
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'piecework.db'}"
        migrate(url)
        yield url
        return
    name = f"piecework_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL at {PG_SERVER} ({str(exc).strip().splitlines()[0]})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {reason}", pytrace=False)
        _pg_skip_reason.append(reason)
        pytest.skip(reason)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    migrate(url)
    yield url
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    load_all_models()
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
            # Concurrency tests run 50+ clients, each on a connection of its own.
            "DATABASE_POOL_SIZE": 40,
            "PAYOUT_FILE_DIR": str(tmp_path_factory.mktemp("payouts")),
            # Every test accepts invites from 127.0.0.1, and the bad-input tables send one
            # invite's token many times; tests of the limits set their own.
            "INVITE_ACCEPT_LIMIT_PER_ADDRESS": "10000 per minute",
            "INVITE_ACCEPT_LIMIT_PER_INVITE": "10000 per minute",
            "TEAM_INVITES_LIMIT": "10000 per minute",
            # Every test signs in from 127.0.0.1, Li many times; tests of the limits (and
            # of the lockout, which no limit may hide) set their own.
            "ACCOUNTS_LIMIT_PER_ADDRESS": "10000 per minute",
            "ACCOUNTS_LIMIT_PER_ACCOUNT": "10000 per minute",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_app):
    """The application on a migrated, empty database; emptied again after the test."""
    yield _app
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with _app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def api(app):
    return ApiClient(app.test_client())


@pytest.fixture
def frozen_clock():
    """The one clock, standing still at 2026-03-02 10:00 UTC until the test moves it."""
    frozen = FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    previous = clock.set_source(frozen)
    yield frozen
    clock.set_source(previous)


from tests.cast import cast  # noqa: E402, F401  (fixture)
from tests.smtp_server import smtp_server  # noqa: E402, F401  (fixture)
from tests.stripe_servers import (  # noqa: E402, F401  (fixtures)
    localstripe_url,
    stripe_standin,
    stripe_standin_url,
)
