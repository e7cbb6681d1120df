"""Engine, session, declarative base and the unit of work.

One unit of work per request, job or command: `with unit_of_work() as session:`
commits on success and rolls back everything on any exception, so a crash in
the middle of a use case leaves nothing half-done. Service functions receive
the session and never commit themselves.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Select,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from marketplace import clock

# Stable constraint names, so that migrations name the same thing on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit ids on PostgreSQL; SQLite only autoincrements an INTEGER primary key.
Id = BigInteger().with_variant(Integer(), "sqlite")
MAX_ID = 2**63 - 1


def find(session: Session, model: type, id_: int) -> Any:
    """The row with this id, or None; an id no 64-bit column can hold is simply not there."""
    return session.get(model, id_) if 0 < id_ <= MAX_ID else None


class UTCDateTime(TypeDecorator):
    """A moment stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use marketplace.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Entity:
    """Columns every row of ours has."""

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


def upsert(session: Session, model: type) -> Any:
    """An INSERT for `model` that takes ON CONFLICT clauses, in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def insert_integer_rows(session: Session, model: type, rows: list[dict[str, int | None]]) -> None:
    """Insert many rows whose columns are all integers, fast: on PostgreSQL one statement
    that unnests one array per column (thousands of rows, no per-row work); elsewhere an
    executemany."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    columns = list(rows[0])
    arrays = [
        func.unnest(
            bindparam(
                f"rows_{column}", [row[column] for row in rows], type_=postgresql.ARRAY(BigInteger)
            )
        )
        for column in columns
    ]
    session.execute(insert(model).from_select(columns, select(*arrays)))


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine for `url`; SQLite gets foreign keys and write-locking transactions."""
    if not url.startswith("sqlite"):
        # No pre-ping: it costs a round trip on every request (a tenth of a claim). After a
        # database restart the first statement on a dead connection fails, SQLAlchemy
        # invalidates the whole pool, and the next request reconnects.
        return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions (needed for BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: concurrent writers wait instead of failing mid-way.
        # A long read (a streamed export, option `read_only`) takes a snapshot instead and
        # holds no writer back.
        read_only = connection.get_execution_options().get("read_only")
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class Database:
    """The database extension: created once, bound to each app in the factory.

    Each app keeps its own engine and session factory in `app.extensions`, so
    apps on different databases (SQLite and PostgreSQL in one test run) coexist.
    """

    def init_app(self, app: Flask) -> None:
        engine = make_engine(
            app.config["DATABASE_URL"],
            echo=app.config["SQL_ECHO"],
            pool_size=app.config["DATABASE_POOL_SIZE"],
        )
        app.extensions["database"] = sessionmaker(engine, expire_on_commit=False)
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database"].kw["bind"]

    @property
    def session(self) -> Session:
        """The session of the current application context (request, command or job)."""
        if "db_session" not in g:
            g.db_session = current_app.extensions["database"]()
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()


def keyset_page(session: Session, query: Select, *, limit: int, after: int) -> list[Any]:
    """One page of the query's rows by ascending id: the first `limit` with an id above `after`.

    Keyset paging stays fast and stable however deep the page, and rows added
    meanwhile never shift a page.
    """
    entity = query.column_descriptions[0]["entity"]
    return list(session.scalars(query.where(entity.id > after).order_by(entity.id).limit(limit)))


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Run a use case in one transaction: commit if it returns, roll back if it raises."""
    session = db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
