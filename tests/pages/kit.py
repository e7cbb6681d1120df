"""What the page tests share: a client that signs in through the pages' forms, and Li's
money in every state the earnings page shows.

Lotus counts its days in Shanghai; the tests start at 2026-03-02 18:00 there.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from marketplace import ledger
from marketplace.db import db
from marketplace.notices.mail import SmtpSettings, send_outbox
from tests import flows
from tests.cast import PASSWORD
from tests.orders.test_credit_hold import hold

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class PageClient:
    """The Flask test client as a browser: it keeps the session cookie and sends each
    form with the CSRF token of the page it came from."""

    def __init__(self, client: FlaskClient, language: str = "zh-CN") -> None:
        self.client = client
        self.headers = {"Accept-Language": language}

    def get(self, path: str):
        return self.client.get(path, headers=self.headers)

    def csrf_token(self, path: str = "/sign-in") -> str:
        return CSRF_FIELD.search(self.get(path).get_data(as_text=True)).group(1)

    def post(self, path: str, data: dict, *, token_from: str | None = "/sign-in"):
        """Post a form; with the CSRF token of `token_from`'s page (None: without one)."""
        data = dict(data)
        if token_from is not None:
            data.setdefault("csrf_token", self.csrf_token(token_from))
        return self.client.post(path, data=data, headers=self.headers)

    def sign_in(self, email: str, password: str = PASSWORD):
        return self.post("/sign-in", {"email": email, "password": password})


def text(answer) -> str:
    return answer.get_data(as_text=True)


@dataclass
class LiMoney:
    """What the earnings page must show for Li at Lotus, to the fen."""

    paid_invoice: dict
    available_invoice: dict
    late_invoice: dict
    funded_order: int


def li_money_in_every_state(app, api, cast, frozen_clock) -> LiMoney:
    """Li's money at Lotus, in every state:

    - paid 0.60: 10 boxes at her 0.06, on an invoice Horizon paid, then paid out;
    - available 1.20: 20 boxes at 0.06, on an invoice Horizon paid;
    - pending 0.39: 7 boxes at her 0.055 (0.385, billed half-up), on an invoice due
      2026-04-01 and 5 days late on 2026-04-06, the day the page is read, with Horizon
      on credit hold;
    - accepted, not invoiced: 3 boxes at 0.055, 0.165, billed as 0.17;
    - funded, in review: 5 boxes at 0.06 on a prefunded order, 0.30, in review until
      2026-04-09 (3 days after she submitted them).
    """
    paid = pay(api, cast, flows.invoiced(api, cast))
    answer = api.post("/payout-runs", cast.admin, {"currency": "CNY"})
    assert answer.status == 201, answer.body
    available = pay(api, cast, flows.invoiced(api, cast, items=20))
    # The prefunded order's 5 boxes and their fee (0.50 + 0.03), reserved before any
    # invoice is open: a top-up pays open invoices first.
    flows.top_up(api, cast.admin, cast.party_ids["horizon"], "0.53")
    body = flows.order_body(items=5, batch_size=5, funding="prefunded")
    funded = api.post("/orders", cast.client, body)
    assert funded.status == 201, funded.body
    funded = funded.body["id"]
    published = api.post(f"/orders/{funded}/publish", cast.client)
    assert published.status == 200, published.body
    late = flows.invoiced(api, cast, items=7, rate="0.055")

    frozen_clock.stand_at("2026-04-06T18:00:00+08:00")
    unbilled = flows.post_order(api, cast.client, items=3, batch_size=3)
    flows.claim(api, cast.owner, unbilled)
    flows.set_rate(api, cast.owner, unbilled, "0.055")
    flows.review(api, cast.reviewer, accept=flows.submit(api, cast.li, 3))
    flows.claim(api, cast.owner, funded)
    flows.set_rate(api, cast.owner, funded, "0.06")
    flows.submit(api, cast.li, 5)

    hold(app, cast)
    return LiMoney(paid, available, late, funded)


def pay(api, cast, invoice: dict) -> dict:
    """Horizon's bank transfer of the whole invoice, recorded by the platform admin."""
    body = {"amount": invoice["total"], "reference": f"ICBC-{invoice['number']}"}
    answer = api.post(
        f"/invoices/{invoice['id']}/payments", cast.admin, body | {"received_on": "2026-03-02"}
    )
    assert answer.status == 201, answer.body
    return invoice


def ledger_of(app, cast, label: str = "li", team: str = "lotus") -> dict:
    """The ledger's own balances of an annotator at a team, per currency, in minor units."""
    with app.app_context():
        return {
            e.currency: (e.pending, e.available, e.paid)
            for e in ledger.earnings(
                db.session, party_id=cast.party_ids[team], user_id=cast.user_ids[label]
            )
        }


def delivered(app, smtp_server) -> list:
    """Send the outbox to the local SMTP server; what it received."""
    with app.app_context():
        send_outbox(SmtpSettings(smtp_server.host, smtp_server.port, "team@piecework.test"))
    return smtp_server.messages


def link_path(body: str) -> str:
    """The one link in a mail as a path on this site, as a browser opens it here
    (PUBLIC_URL is not the live server's port)."""
    [link] = [word for word in body.split() if word.startswith("http")]
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"
