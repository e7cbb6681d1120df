"""The demo: the parties of the README's story, with fixed tokens, and its order posted.

Demo tokens are fixed strings so that `make run` can print them every time;
they exist only in a database that `seed-demo` filled. Never seed production.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.identity import service as identity
from marketplace.identity.actor import Actor
from marketplace.identity.models import PartyKind, Role, User
from marketplace.orders import service as orders

DEMO_PASSWORD = "demo-password"

# role -> (e-mail, token)
DEMO_TOKENS = {
    "platform_admin": ("admin@piecework.example", "demo-admin"),
    "client_admin": ("buyer@horizon-ai.example", "demo-client"),
    "team_owner": ("owner@lotus-labeling.example", "demo-owner"),
    "reviewer": ("reviewer@lotus-labeling.example", "demo-reviewer"),
    "annotator": ("li.na@lotus-labeling.example", "demo-annotator-1"),
    "annotator 2": ("wang.fang@lotus-labeling.example", "demo-annotator-2"),
    "annotator 3": ("zhang.wei@lotus-labeling.example", "demo-annotator-3"),
}

_NAMES = {
    "platform_admin": "Piecework Admin",
    "client_admin": "Chen Jing (Horizon AI)",
    "team_owner": "Zhao Lei (Lotus Labeling)",
    "reviewer": "Sun Mei",
    "annotator": "Li Na",
    "annotator 2": "Wang Fang",
    "annotator 3": "Zhang Wei",
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
    party_of = {"platform_admin": platform, "client_admin": client}
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
                {"ref": f"https://data.horizon-ai.example/drive/frame-{n:05d}.jpg"}
                for n in range(1, 2001)
            ],
        },
    )
    orders.publish_order(session, buyer, order.id)
    ratings = orders.create_order(
        session,
        buyer,
        {
            "title": "Chatbot answers: rate each 1-5",
            "task_type": "rating_1_5",
            "instructions": "Rate how helpful and correct the answer is.",
            "unit_price_micros": 300_000,  # 0.30 CNY per answer
            "currency": "CNY",
            "payment_terms_days": 30,
            "batch_size": 40,
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
    return True
