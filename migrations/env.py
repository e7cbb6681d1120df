"""Alembic environment: the application's models and the URL from DATABASE_URL."""

from pathlib import Path

from alembic import context
from sqlalchemy.types import TypeDecorator

from marketplace.config import database_url
from marketplace.db import Base, make_engine
from marketplace.models import load_all_models
from marketplace.scheduler import JOB_TABLE

load_all_models()
target_metadata = Base.metadata


def render_item(type_, obj, autogen_context):
    """Write our column types as the plain SQLAlchemy types they store as."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def include_object(obj, name, type_, reflected, compare_to):
    """APScheduler's job table is created by a migration but defined by APScheduler."""
    return not (type_ == "table" and name == JOB_TABLE) and not (
        type_ == "index" and obj.table.name == JOB_TABLE
    )


def run_migrations() -> None:
    url = context.config.attributes.get("database_url") or database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; point DATABASE_URL at a database.")
run_migrations()
