"""The benchmark's world: a database of its own, the parties in it and the drop they race for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg


@dataclass
class Seed:
    order_id: int
    batch_ids: list[int]
    teams: list[tuple[int, str]]  # (party id, bearer token), one per claimer
    items: int
    census_order_id: int
    census_batch_id: int


def create_database(server: str) -> tuple[str, str]:
    name = f"piecework_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(conninfo: str) -> str:
    return conninfo.replace("postgresql://", "postgresql+psycopg://", 1)


def migrate(url: str, source: Path) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig(str(source / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def make_app(url: str):
    from marketplace import create_app

    return create_app({"DATABASE_URL": url, "PASSWORD_HASH_PROFILE": "CHEAPEST"})


def seed(app, *, teams: int, batches: int, batch_size: int, funding: str = "prefunded") -> Seed:
    """A client, `teams` teams with an owner and a token each, and one published order:
    `prefunded` (the client's top-up reserved as it is published) or `invoiced` (on a
    credit line)."""
    from sqlalchemy import select

    from marketplace.db import unit_of_work
    from marketplace.identity import service as identity
    from marketplace.identity.actor import Actor
    from marketplace.identity.models import CreditLine, PartyKind, Role
    from marketplace.orders import service as orders
    from marketplace.orders.models import Batch
    from marketplace.payments.collection import Arrival, receive_payment

    IMAGE = {"width": 1920, "height": 1080}  # bbox_2d items give the image's size

    def order_data(title: str, count: int, size: int) -> dict[str, Any]:
        return {
            "title": title,
            "task_type": "bbox_2d",
            "instructions": "Draw a tight box around every vehicle.",
            "unit_price_micros": 100_000,
            "currency": "CNY",
            "payment_terms_days": 30,
            # Prefunded, the whole order is reserved from the client's balance as it is
            # published, so the claims run against funded work (claims never reserve).
            "funding": funding,
            "batch_size": size,
            "items": [
                {"ref": f"s3://storm/{title}/{n:07d}.jpg", "payload": IMAGE}
                for n in range(1, count + 1)
            ],
        }

    with app.app_context(), unit_of_work() as session:
        client = identity.create_party(session, kind=PartyKind.CLIENT, name="Storm Client")
        buyer_user = identity.create_user(
            session, email="buyer@storm.example", name="Buyer", password="bench-password"
        )
        identity.add_membership(session, user=buyer_user, party=client, role=Role.CLIENT_ADMIN)
        if funding == "invoiced":
            session.add(
                CreditLine(party_id=client.id, currency="CNY", limit_minor=10**15, reason="bench")
            )
        else:
            receive_payment(
                session,
                Arrival(
                    client_party_id=client.id,
                    currency="CNY",
                    gateway="manual",
                    reference="STORM-TOP-UP",
                    amount_minor=10**12,
                    received_on=date.today(),
                ),
            )
        team_tokens = []
        for n in range(teams):
            team = identity.create_party(session, kind=PartyKind.TEAM, name=f"Team {n:02d}")
            owner = identity.create_user(
                session,
                email=f"owner{n:02d}@storm.example",
                name=f"Owner {n:02d}",
                password="bench-password",
            )
            identity.add_membership(session, user=owner, party=team, role=Role.TEAM_OWNER)
            team_tokens.append((team.id, identity.issue_token(session, owner, name="bench")))
        buyer = Actor(buyer_user.id, frozenset({(client.id, Role.CLIENT_ADMIN)}))
        order = orders.create_order(
            session, buyer, order_data("drop", batches * batch_size, batch_size)
        )
        orders.publish_order(session, buyer, order.id)
        census = orders.create_order(session, buyer, order_data("census", batch_size, batch_size))
        orders.publish_order(session, buyer, census.id)
        batch_ids = list(
            session.scalars(select(Batch.id).where(Batch.order_id == order.id).order_by(Batch.id))
        )
        census_batch = session.scalar(select(Batch.id).where(Batch.order_id == census.id))
        return Seed(order.id, batch_ids, team_tokens, batches * batch_size, census.id, census_batch)


def reset_batches(conninfo: str, order_id: int) -> None:
    """Release every batch of the order again, with no tasks or contracts, and vacuum."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM tasks WHERE order_id = %s", (order_id,))
        conn.execute("DELETE FROM contracts WHERE order_id = %s", (order_id,))
        conn.execute(
            "UPDATE batches SET status = 'released', claimed_by_party_id = NULL, "
            "claimed_at = NULL WHERE order_id = %s",
            (order_id,),
        )
        conn.execute("VACUUM (ANALYZE) batches, tasks, contracts")
        conn.execute("CHECKPOINT")


def server_facts(conninfo: str) -> dict[str, str]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        facts = {"version": conn.execute("SHOW server_version").fetchone()[0]}
        for setting in ("synchronous_commit", "fsync", "shared_buffers", "max_connections"):
            facts[setting] = conn.execute(f"SHOW {setting}").fetchone()[0]
        return facts
