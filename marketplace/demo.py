"""The demo: the parties of the README's story, with fixed tokens, and its order posted.

Demo tokens are fixed strings so that `make run` can print them every time;
they exist only in a database that `seed-demo` filled. Never seed production.
"""

from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import clock, demo_work
from marketplace.demo_board import seed_board
from marketplace.demo_history import seed_history
from marketplace.identity import service as identity
from marketplace.identity.actor import Actor
from marketplace.identity.models import PartyKind, Role, User
from marketplace.orders import service as orders
from marketplace.orders.models import Funding, Sourcing
from marketplace.payments import balances, collection
from marketplace.payments.invoices import Terms
from marketplace.subcontract import bids, offers
from marketplace.wages import service as wages
from marketplace.workers import levels

DEMO_PASSWORD = "demo-password"
# The reference wage pages show an hour's pay beside.
SHANGHAI_WAGE = {
    "currency": "CNY",
    "region": "Shanghai",
    "hourly_wage": Decimal("24.00"),
    "source": "Shanghai minimum wage notice, 2025 (24 CNY an hour, part-time)",
    "effective_on": date(2025, 7, 1),
}

# role -> (e-mail, token)
DEMO_TOKENS = {
    "platform_admin": ("admin@piecework.example", "demo-admin"),
    "client_admin": ("buyer@horizon-ai.example", "demo-client"),
    # Lotus's past work (demo_history.py) was for a second client, on its credit line.
    "client_admin nova": ("buyer@nova-robotics.example", "demo-client-2"),
    "team_owner": ("owner@lotus-labeling.example", "demo-owner"),
    "reviewer": ("reviewer@lotus-labeling.example", "demo-reviewer"),
    "annotator": ("li.na@lotus-labeling.example", "demo-annotator-1"),
    "annotator 2": ("wang.fang@lotus-labeling.example", "demo-annotator-2"),
    "annotator 3": ("zhang.wei@lotus-labeling.example", "demo-annotator-3"),
    # The middlemen of the demo's chain: Horizon -> Apex -> Bridge -> Lotus.
    "team_owner prime": ("owner@apex-data.example", "demo-prime"),
    "team_owner middleman": ("owner@bridge-annotation.example", "demo-middleman"),
}

_NAMES = {
    "platform_admin": "Piecework Admin",
    "client_admin": "Chen Jing (Horizon AI)",
    "client_admin nova": "Liu Yang (Nova Robotics)",
    "team_owner": "Zhao Lei (Lotus Labeling)",
    "reviewer": "Sun Mei",
    "annotator": "Li Na",
    "annotator 2": "Wang Fang",
    "annotator 3": "Zhang Wei",
    "team_owner prime": "Qian Hao (Apex Data)",
    "team_owner middleman": "Zhou Min (Bridge Annotation)",
}


def seed_demo(session: Session) -> bool:
    """Create the demo once; returns False (and changes nothing) if it is already there."""
    if session.scalar(select(User.id).where(User.email == DEMO_TOKENS["platform_admin"][0])):
        return False
    platform = identity.platform_party(session)
    client = identity.create_party(session, kind=PartyKind.CLIENT, name="Horizon AI")
    team = identity.create_party(
        session, kind=PartyKind.TEAM, name="Lotus Labeling", bank_account="CN62 0001 2345 6789"
    )
    prime = identity.create_party(
        session, kind=PartyKind.TEAM, name="Apex Data", bank_account="CN62 0002 0000 0001"
    )
    middleman = identity.create_party(
        session, kind=PartyKind.TEAM, name="Bridge Annotation", bank_account="CN62 0003 0000 0001"
    )
    nova = identity.create_party(session, kind=PartyKind.CLIENT, name="Nova Robotics")
    party_of = {
        "platform_admin": platform,
        "client_admin": client,
        "client_admin nova": nova,
        "team_owner prime": prime,
        "team_owner middleman": middleman,
    }
    users = {}
    for label, (email, token) in DEMO_TOKENS.items():
        role = Role(label.split()[0])
        user = identity.create_user(
            session,
            email=email,
            name=_NAMES[label],
            password=DEMO_PASSWORD,
            bank_account=f"6222 0000 {len(users):04d}" if role == Role.ANNOTATOR else None,
        )
        identity.add_membership(session, user=user, party=party_of.get(label, team), role=role)
        identity.issue_token(session, user, name="demo", token=token)
        users[label] = user
    buyer = Actor(users["client_admin"].id, frozenset({(client.id, Role.CLIENT_ADMIN)}))
    _seed_money(session, _actor(users["platform_admin"]), client.id)
    order = orders.create_order(
        session,
        buyer,
        {
            "title": "Driving scenes: 2D boxes around vehicles and pedestrians",
            "task_type": "bbox_2d",
            "instructions": "Draw a tight box around every vehicle and pedestrian.",
            "unit_price_micros": 100_000,  # 0.10 CNY per item
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": 500,
            "items": [
                {
                    "ref": f"https://data.horizon-ai.example/drive/frame-{n:05d}.jpg",
                    "payload": {"width": 1920, "height": 1080},
                }
                for n in range(1, 2001)
            ],
            # A reviewer checks one box in five; under 95 % right, the batch is reworked.
            "review": {"sample_rate": 2000, "accuracy_threshold": 9500, "window_days": 3},
        },
    )
    orders.publish_order(session, buyer, order.id)
    ratings = orders.create_order(
        session,
        buyer,
        {
            "title": "Chatbot answers: rate each 1-5",
            "task_type": "rating_1_5",
            "instructions": "Rate how helpful and correct the answer is; at 2 or lower, "
            "say what is wrong with it.",
            "task_options": {
                "error_types": ["factually_wrong", "unhelpful", "unsafe", "off_topic"]
            },
            "unit_price_micros": 300_000,  # 0.30 CNY per answer
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": 40,
            # Each drop's 40 answers are paid for from Horizon's balance before they drop.
            "funding": Funding.MILESTONES,
            "items": [{"ref": f"conversation-{n:04d}"} for n in range(1, 401)],
            # A drop every five minutes, so the demo shows one soon after it starts.
            "release_plan": {
                "cron": "*/5 * * * *",
                "timezone": "Asia/Shanghai",
                "batches_per_drop": 1,
                "starts_at": None,
                "ends_at": None,
                "grace_minutes": 5,
            },
        },
    )
    orders.publish_order(session, buyer, ratings.id)
    actors = {label: _actor(users[label]) for label in users}
    _seed_chain(session, buyer, actors)
    _seed_levels(session, actors["team_owner"], team.id, users)
    people = {
        "admin": actors["platform_admin"],
        "client": actors["client_admin nova"],
        "owner": actors["team_owner"],
        "reviewer": actors["reviewer"],
        "li": actors["annotator"],
    }
    wages.save_wage(session, actors["platform_admin"], SHANGHAI_WAGE)
    config = current_app.config
    seed_history(session, people, team.id, Terms.from_config(config), config["IDLE_LIMIT_SECONDS"])
    # After Li's past work, whose tasks she took: today's are the workspace's.
    demo_work.seed_work(session, buyer, actors["team_owner"])
    seed_board(session, buyer, actors["team_owner"])  # the owner's board and chain pages
    return True


def _seed_money(session: Session, admin: Actor, client_id: int) -> None:
    """Horizon is trusted with pay-when-paid orders up to 100,000 CNY, and has topped up
    its balance by a 500 CNY bank transfer for its funded order."""
    balances.set_credit_line(
        session, admin, client_id, "CNY", limit=Decimal("100000"), reason="demo: a known client"
    )
    collection.record_bank_transfer(
        session,
        admin,
        amount=Decimal("500.00"),
        reference="DEMO-TOP-UP-1",
        received_on=clock.now().date(),
        client_id=client_id,
        currency="CNY",
    )


def _actor(user: User) -> Actor:
    return Actor(user.id, frozenset((m.party_id, Role(m.role)) for m in user.memberships))


def _seed_chain(session: Session, buyer: Actor, actors: dict[str, Actor]) -> None:
    """The README's chain: 1,960 boxes put out for bids; Apex wins them at 0.10, passes
    them to Bridge at 0.08, and Bridge to Lotus at 0.055. Lotus claims and works them."""
    order = orders.create_order(
        session,
        buyer,
        {
            "title": "Parking lots: 2D boxes around cars",
            "task_type": "bbox_2d",
            "instructions": "Draw a tight box around every car.",
            "unit_price_micros": 100_000,  # the client's budget, sealed from teams
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": 490,
            "sourcing": Sourcing.BIDS,
            "chain_caps": {"max_depth": 3, "min_pass_through": 5000},  # basis points
            "items": [
                {"ref": f"parking-{n:04d}.jpg", "payload": {"width": 1280, "height": 720}}
                for n in range(1, 1961)
            ],
        },
    )
    orders.publish_order(session, buyer, order.id)
    prime, middleman = actors["team_owner prime"], actors["team_owner middleman"]
    bid = bids.bid_on_order(
        session, prime, order.id, {"unit_price_micros": 100_000, "quantity": 1960}
    )
    top = bids.award_bid(session, buyer, bid.id, None).contract_id
    second = _pass_down(session, prime, top, middleman, 80_000)
    _pass_down(session, middleman, second, actors["team_owner"], 55_000)


def _pass_down(session: Session, holder: Actor, contract_id: int, taker: Actor, price: int) -> int:
    """The holder offers all 1,960 boxes of its contract to the taker's team, who accepts."""
    [team] = taker.party_ids(Role.TEAM_OWNER)
    offer = offers.make_offer(
        session,
        holder,
        contract_id,
        {"to_team_id": team, "unit_price_micros": price, "quantity": 1960},
    )
    contract, _ = offers.accept_offer(session, taker, offer.id, None)
    return contract.id


# Lotus's ladder: name, rank, daily quota, reviews, promotion rule (accuracy in basis
# points over the last N reviewed items), rates per item (micros) for boxes and ratings.
LEVELS = [
    ("trainee", 0, 300, False, None, (30_000, 150_000)),
    ("annotator", 1, 600, False, (9000, 200), (40_000, 200_000)),
    ("senior", 2, 800, False, (9500, 500), (45_000, 220_000)),
    ("quality inspector", 3, 400, True, (9800, 1000), (50_000, 250_000)),
]
# Where the demo's annotators stand (their first level is the owner's to set).
STANDING = {"annotator": "senior", "annotator 2": "annotator", "annotator 3": "trainee"}


def _seed_levels(session: Session, owner: Actor, team_id: int, users: dict[str, User]) -> None:
    """Lotus's levels with their quotas and rate cards, and its annotators on them."""
    by_name = {}
    for name, rank, quota, reviews, rule, (boxes, ratings) in LEVELS:
        data = {"name": name, "rank": rank, "daily_quota": quota, "reviews": reviews}
        if rule:
            data["promotion"] = {"min_accuracy": rule[0], "over_items": rule[1]}
        level = levels.save_level(session, owner, data, team_id=team_id)
        for task_type, micros in (("bbox_2d", boxes), ("rating_1_5", ratings)):
            levels.set_level_rate(
                session, owner, level.id, task_type=task_type, currency="CNY", micros=micros
            )
        by_name[name] = level
    for label, name in STANDING.items():
        levels.change_level(
            session, owner, team_id, users[label].id, by_name[name].id, "demo: where she starts"
        )
