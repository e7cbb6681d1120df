"""Crashes for tests: a use case stopped dead between two of its steps, and worlds to rerun it on.

A step is one statement sent to the database or one commit, counted on the app's own engine
through SQLAlchemy's events, so nothing of ours is mocked: `Steps(engine)` counts a call's
steps; `Steps(engine, crash_at=n)` raises `Crash` as step n is about to go out (a commit
included: the crash then comes after every statement of the unit of work and before it is
committed). `Crash` is a BaseException, like the KeyboardInterrupt or SystemExit of a killed
process: no `except Exception` of ours can swallow it, and SQLAlchemy drops the connection,
as the server does when a process dies.

`snapshot` and `restore` copy every table of the app's metadata, so a test can rebuild the
same world before each crash instead of making it again through the API.
"""

from typing import Any

from sqlalchemy import Engine, event, select, text

from marketplace.db import Base, db


class Crash(BaseException):
    """The process died here (injected by a test)."""


class Steps:
    """Counts the engine's statements and commits while active; raises Crash at `crash_at`."""

    def __init__(self, engine: Engine, crash_at: int | None = None) -> None:
        self.engine = engine
        self.crash_at = crash_at
        self.log: list[str] = []
        self.crashed: str | None = None

    @property
    def count(self) -> int:
        return len(self.log)

    def __enter__(self) -> "Steps":
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement: str, *args: Any) -> None:
        self._step(" ".join(statement.split())[:80])

    def _commit(self, conn) -> None:
        self._step("COMMIT")

    def _step(self, what: str) -> None:
        self.log.append(what)
        if self.count == self.crash_at:
            self.crashed = what
            raise Crash(f"crash at step {self.count}: {what}")


def snapshot(app) -> dict[str, list[dict]]:
    """Every row of every table, in id order."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            table.name: [
                dict(row._mapping)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def restore(app, rows: dict[str, list[dict]]) -> None:
    """Put the tables back as `snapshot` found them, id sequences included."""
    tables = Base.metadata.sorted_tables
    with app.app_context(), db.engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # a test's world: no need to wait for the disk
            connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
        for table in reversed(tables):
            connection.execute(table.delete())
        sequences = []
        for table in tables:
            if rows[table.name]:
                connection.execute(table.insert(), rows[table.name])
                if "id" in table.c:
                    sequences.append(
                        f"setval(pg_get_serial_sequence('{table.name}', 'id'),"
                        f" (SELECT max(id) FROM {table.name}))"
                    )
        if postgres and sequences:
            connection.execute(text(f"SELECT {', '.join(sequences)}"))
