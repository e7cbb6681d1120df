"""Migrations: the models and the migrated schema agree on both engines; downgrades work."""

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig

from tests.conftest import ROOT


def alembic(url: str) -> AlembicConfig:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    return config


@pytest.mark.slow
def test_the_migrated_schema_matches_the_models(database_url):
    command.check(alembic(database_url))  # raises if autogenerate would change anything


@pytest.mark.slow
def test_migrations_go_down_to_nothing_and_up_again(tmp_path):
    config = alembic(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)
