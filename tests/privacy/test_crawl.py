"""Privacy as a property of the whole API, crawled.

At each moment of the README chain's money (tests/privacy/story.py), every role of
every party reads every GET the served OpenAPI document lists, with every id the
database holds and the usual query parameters, as JSON and as CSV. Every figure each
answer states, in every spelling (tests/privacy/figures.py), is checked against what
that reader may see (tests/privacy/secrets.py): no party reads a price, line, fee,
invoice total, payment, credit note, refund, chargeback, write-off or margin of a link
above its own or of a chain it is not in; the client reads no link's price or margin
below its own (the pass-through share is documented) and no annotator's name or
earnings. A view added tomorrow is read the day it is added; one whose ids the crawler
does not know fails the crawl until it is taught them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.identity.models import Membership, User
from tests.privacy.crawler import get_operations, untaught, urls
from tests.privacy.figures import figures
from tests.privacy.secrets import Reader, forbidden, money_secrets, shadowed, story_secrets
from tests.privacy.story import TEAMS, walk

pytestmark = pytest.mark.slow

MOMENTS = [
    "unbilled",
    "invoiced",
    "overdue",
    "disputed",
    "on_credit_hold",
    "credited",
    "partly_paid",
    "paid",
    "paid_out",
    "refunded",
    "charged_back",
    "written_off",
]

ROLES = ("owner", "reviewer", "annotator")
# What each reader must find somewhere: the crawl is not blind to its own figures.
MUST_SEE = {
    "horizon client": ["0.10", "205.80", "21.18", "11.65"],
    "apex owner": ["0.10", "0.08", "39.20"],
    "bridge owner": ["0.08", "0.055", "49.00"],
    "crane owner": ["0.055", "0.04", "29.40", "78.40", "8.47"],
    "crane annotator": ["78.40", "8.47"],
}


def readers(api, cast, teams) -> list[Reader]:
    people = [
        ("horizon client", cast.client, "horizon", "client"),
        ("acme client", cast.rival_client, "acme", "client"),
        ("tiger owner", cast.rival_owner, "tiger", "owner"),
        ("tiger reviewer", cast.rival_reviewer, "tiger", "reviewer"),
        ("tiger annotator", cast.rival_annotator, "tiger", "annotator"),
        ("platform admin", cast.admin, "platform", "admin"),
    ] + [
        (f"{team} {role}", getattr(teams[team], role), team, role)
        for team in TEAMS
        for role in ROLES
    ]
    return [
        Reader(label, token, party, role, api.get("/me", token).body["id"])
        for label, token, party, role in people
    ]


def names_of_people(session) -> dict[str, str]:
    """Each chain team member's name and e-mail -> the team whose people may read it."""
    found = {}
    for user, membership in session.execute(select(User, Membership).join(Membership)).all():
        team = membership.party.name.lower()
        if team in TEAMS:
            found[user.name] = found[user.email] = team
    return found


def read(client, url: str, token: str) -> tuple[int, str, str]:
    answer = client.get(f"/api/v1{url}", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code, answer.content_type or "", answer.get_data(as_text=True)


@dataclass
class Crawl:
    """What the crawl found over every moment."""

    leaks: dict = field(default_factory=lambda: defaultdict(set))  # (reader, url, what) -> moments
    answered: dict = field(default_factory=lambda: defaultdict(int))  # operation -> its 200s
    seen: dict = field(default_factory=lambda: defaultdict(set))  # reader -> figures it read
    blind: set = field(default_factory=set)  # (reader, figure, what) it may see as another

    def read_as(self, api, reader: Reader, crawl: dict, secrets: list, people: dict, moment):
        """`reader` reads every URL of `crawl`; what it must not read is noted as a leak.
        An error is searched too: its details must keep the rule as well."""
        banned = forbidden(reader, secrets)
        self.blind |= {(reader.label, str(f), what) for f, what in shadowed(reader, secrets)}
        names = [n for n, team in people.items() if reader.role != "admin" and team != reader.party]
        for path, found_urls in crawl.items():
            for url in found_urls:
                status, content_type, text = read(api.client, url, reader.token)
                self.answered[path] += status == 200
                stated = figures(text, content_type)
                self.seen[reader.label] |= stated
                for figure in stated & banned.keys():
                    self.leaks[(reader.label, url, f"{figure} ({banned[figure]})")].add(moment)
                for name in names:
                    if name in text:
                        self.leaks[(reader.label, url, f"the name {name}")].add(moment)

    def report(self) -> str:
        return "\n".join(
            sorted(
                f"{reader} read {what} at {url} when {', '.join(sorted(when, key=MOMENTS.index))}"
                for (reader, url, what), when in self.leaks.items()
            )
        )


def test_no_reader_reads_a_figure_above_its_link_at_any_moment(app, api, cast, frozen_clock):
    operations = get_operations(api.client.get("/api/openapi.json").json)
    assert untaught(operations) == []
    found, everyone, moments = Crawl(), [], []
    for moment, story in walk(app, api, cast, frozen_clock):
        moments.append(moment)
        everyone = everyone or readers(api, cast, story.teams)
        labels = {team.id: name for name, team in story.teams.items()} | {
            cast.party_ids[label]: label for label in ("horizon", "acme", "tiger", "platform")
        }
        with app.app_context():
            crawl = {op.path: list(urls(db.session, op)) for op in operations}
            secrets = story_secrets() + money_secrets(db.session, labels)
            people = names_of_people(db.session)
        for reader in everyone:
            found.read_as(api, reader, crawl, secrets, people, moment)

    assert moments == MOMENTS
    assert not found.leaks, found.report()
    assert [op.path for op in operations if not found.answered[op.path]] == []
    assert {
        label: [f for f in expected if Decimal(f) not in found.seen[label]]
        for label, expected in MUST_SEE.items()
    } == {label: [] for label in MUST_SEE}
    # The figures the crawl cannot hold against a reader, as they are also its own: Crane's
    # reviewer may read the line of the team's piece rate, 78.40, which is also all its one
    # annotator earned; Apex's people read their own line, 196.00, the invoice's items line.
    annotator = story.teams["crane"].annotator_id
    assert found.blind == {
        ("crane reviewer", "78.40", f"user {annotator}'s pending earnings"),
        *((f"apex {role}", "196.00", "Invoice INV-2026-000001 items") for role in ROLES),
    }
