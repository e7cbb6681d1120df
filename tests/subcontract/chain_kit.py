"""Teams for chains (Apex, Bridge, Crane, Delta, Echo), each with an owner, a reviewer and
an annotator, and the steps of passing an order down a chain through the API."""

from dataclasses import dataclass

from marketplace.db import unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import PartyKind, Role
from tests.flows import review, set_rate, submit
from tests.support import ApiClient

TEAMS = ("apex", "bridge", "crane", "delta", "echo")


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    owner: str  # tokens
    reviewer: str
    annotator: str
    annotator_id: int


def seed_teams(app, names=TEAMS) -> dict[str, Team]:
    teams = {}
    with app.app_context(), unit_of_work() as session:
        for name in names:
            party = identity.create_party(
                session, kind=PartyKind.TEAM, name=name.title(), bank_account=f"BANK-{name}"
            )
            tokens, annotator_id = {}, None
            for role in (Role.TEAM_OWNER, Role.REVIEWER, Role.ANNOTATOR):
                user = identity.create_user(
                    session,
                    email=f"{name}-{role}@example.com",
                    name=f"{name.title()} {role}",
                    password="correct horse battery",
                    bank_account=f"BANK-{name}-{role}",
                )
                identity.add_membership(session, user=user, party=party, role=role)
                tokens[role] = identity.issue_token(session, user, token=f"token-{name}-{role}")
                annotator_id = user.id if role == Role.ANNOTATOR else annotator_id
            teams[name] = Team(
                party.id,
                party.name,
                tokens[Role.TEAM_OWNER],
                tokens[Role.REVIEWER],
                tokens[Role.ANNOTATOR],
                annotator_id,
            )
    return teams


def award(api: ApiClient, client: str, order_id: int, team: Team, price: str, quantity: int):
    """The team bids for the order and the client awards the bid; the team's contract."""
    bid = api.post(
        f"/orders/{order_id}/bids", team.owner, {"unit_price": price, "quantity": quantity}
    )
    assert bid.status == 201, bid.body
    awarded = api.post(f"/bids/{bid.body['id']}/award", client, {})
    assert awarded.status == 200, awarded.body
    return api.get(f"/contracts/{awarded.body['contract_id']}", team.owner).body


def pass_down(api: ApiClient, holder: Team, contract: dict, to: Team, price: str, quantity: int):
    """The holder offers items of its contract to `to`, who accepts; the subcontract."""
    offer = api.post(
        f"/contracts/{contract['id']}/offers",
        holder.owner,
        {"to_team_id": to.id, "unit_price": price, "quantity": quantity},
    )
    assert offer.status == 201, offer.body
    accepted = api.post(f"/offers/{offer.body['id']}/accept", to.owner, {})
    assert accepted.status == 201, accepted.body
    return accepted.body["contract"]


def work(api: ApiClient, team: Team, order_id: int, rate: str, accept: int) -> None:
    """The team claims every batch of the order on the board, pays `rate` a box, and its
    annotator does `accept` boxes, all accepted."""
    for batch in api.get("/batches?limit=1000", team.owner).body:
        if batch["order_id"] == order_id:
            claimed = api.post(f"/batches/{batch['id']}/claim", team.owner)
            assert claimed.status == 200, claimed.body
    set_rate(api, team.owner, order_id, rate)
    review(api, team.reviewer, accept=submit(api, team.annotator, accept))
