"""Every GET the served OpenAPI document lists, with every id the database holds.

An operation is crawled once per combination of its path's ids and its usual query
parameters (each `format`, each `status`, each team as `team_id`, the widest page). A path parameter
or a required query parameter the crawler has no values for fails the crawl, naming
it: a new kind of id must be taught here before its views can ship unread.
"""

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.identity.models import Membership, Party, PartyKind, User
from marketplace.notices.models import WebhookEndpoint
from marketplace.orders.models import Batch, Drop, Order, TaskType
from marketplace.payments.models import Invoice, Payment, PayoutRun
from marketplace.subcontract.models import Bid, Contract, Offer
from marketplace.workers.models import Dispute, Submission


def _all(column) -> Callable[[Session], list]:
    return lambda session: list(session.scalars(select(column).order_by(column)))


def _parties(kind: PartyKind) -> Callable[[Session], list]:
    return lambda session: list(
        session.scalars(select(Party.id).where(Party.kind == kind).order_by(Party.id))
    )


def _submissions(session: Session) -> list[int]:
    # 1,960 boxes make 1,960 submissions that differ by nothing but their box: the
    # first, the last, and every one that was disputed stand for them.
    first, last = session.execute(select(func.min(Submission.id), func.max(Submission.id))).one()
    disputed = session.scalars(select(Dispute.submission_id)).all()
    return sorted({first, last, *disputed} - {None})


# path parameter -> the ids (or keys) the story made
PATH_VALUES: dict[str, Callable[[Session], list]] = {
    "order_id": _all(Order.id),
    "drop_id": _all(Drop.id),
    "key": _all(TaskType.key),
    "contract_id": _all(Contract.id),
    "offer_id": _all(Offer.id),
    "bid_id": _all(Bid.id),
    "submission_id": _submissions,
    "batch_id": _all(Batch.id),
    "dispute_id": _all(Dispute.id),
    "team_id": _parties(PartyKind.TEAM),
    "user_id": _all(User.id),
    "invoice_id": _all(Invoice.id),
    "payment_id": _all(Payment.id),
    "run_id": _all(PayoutRun.id),
    "client_id": _parties(PartyKind.CLIENT),
    "endpoint_id": _all(WebhookEndpoint.id),
}


def _members_and_strangers(session: Session) -> list[tuple[int, int]]:
    # Every member of every team with the team, and each team with a user of another:
    # all 20-odd users under all six teams would be most of the crawl, and tell no more.
    teams = PATH_VALUES["team_id"](session)
    users = PATH_VALUES["user_id"](session)
    memberships = {
        tuple(row) for row in session.execute(select(Membership.party_id, Membership.user_id))
    }
    pairs = {(team, user) for team, user in memberships if team in teams}
    for team in teams:
        pairs.add((team, next(user for user in users if (team, user) not in memberships)))
    return sorted(pairs)


# path parameters that go together -> the combinations to try (others: every product)
PATH_PAIRS: dict[tuple[str, ...], Callable[[Session], list[tuple]]] = {
    ("team_id", "user_id"): _members_and_strangers,
}

# query parameter -> the values to send (None: leave it out); others are left out
QUERY_VALUES: dict[str, Callable[[Session, dict], list]] = {
    "format": lambda session, schema: schema.get("enum") or [None],
    # Each state: a list's default state may be empty by the time the money moves.
    "status": lambda session, schema: [None, *(v for v in schema.get("enum", []) if v)],
    "team_id": lambda session, schema: [None, *PATH_VALUES["team_id"](session)],
    "limit": lambda session, schema: [schema.get("maximum", 1000)],
    "currency": lambda session, schema: ["CNY"],
    # The story's days, whatever the default period would be.
    "from": lambda session, schema: ["2026-03-01"],
    "to": lambda session, schema: ["2026-04-30"],
    # An export's filters: a batch (of one order, another's for the rest), and a moment
    # before the story's first decision (the whole export, with the filter in force).
    "batch_id": lambda session, schema: [None, *PATH_VALUES["batch_id"](session)[:1]],
    "since": lambda session, schema: ["2026-03-01T00:00:00Z"],
}


@dataclass(frozen=True)
class Operation:
    path: str  # as the document names it: /api/v1/orders/{order_id}
    path_params: tuple[str, ...]
    query: dict[str, dict]  # name -> its schema, with "required"


def get_operations(document: dict) -> list[Operation]:
    """The GET operations of the OpenAPI document."""
    found = []
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        parameters = operations["get"].get("parameters", [])
        found.append(
            Operation(
                path,
                tuple(re.findall(r"{(\w+)}", path)),
                {
                    p["name"]: p.get("schema", {}) | {"required": p.get("required", False)}
                    for p in parameters
                    if p["in"] == "query"
                },
            )
        )
    return found


def untaught(operations: list[Operation]) -> list[str]:
    """The parameters the crawler has no values for: each a view it could not read."""
    missing = [
        f"{op.path}: path parameter {name}"
        for op in operations
        for name in op.path_params
        if name not in PATH_VALUES
    ]
    return missing + [
        f"{op.path}: required query parameter {name}"
        for op in operations
        for name, schema in op.query.items()
        if schema["required"] and name not in QUERY_VALUES
    ]


def urls(session: Session, operation: Operation) -> Iterator[str]:
    """Every URL of `operation` under /api/v1 with the database's ids and the usual query."""
    paired = PATH_PAIRS.get(operation.path_params)
    combinations = (
        paired(session)
        if paired
        else itertools.product(*(PATH_VALUES[name](session) for name in operation.path_params))
    )
    query_choices = {
        name: QUERY_VALUES[name](session, schema)
        for name, schema in operation.query.items()
        if name in QUERY_VALUES
    }
    for values in combinations:
        path = operation.path.removeprefix("/api/v1")
        for name, value in zip(operation.path_params, values, strict=True):
            path = path.replace(f"{{{name}}}", str(value))
        for chosen in itertools.product(*query_choices.values()):
            query = "&".join(
                f"{name}={value}"
                for name, value in zip(query_choices, chosen, strict=True)
                if value is not None
            )
            yield f"{path}?{query}" if query else path
