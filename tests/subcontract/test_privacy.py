"""Every view of the API, read as every party of the story's chain (and its rivals): each
sees its own upstream price and its own downstream prices, never a price two links away.

Horizon -> Apex 0.10 -> Bridge 0.08 -> Crane 0.055; Crane's annotators earn 0.04.
1,960 boxes accepted and invoiced: lines 196.00, 156.80, 107.80 and 78.40; margins
Apex 39.20, Bridge 49.00, Crane 29.40; fee 9.80, total 205.80.
"""

import csv
import io
import itertools
import json
import re

import pytest

from tests.flows import post_order
from tests.subcontract.chain_kit import award, pass_down, seed_teams, work

pytestmark = pytest.mark.slow

BOXES = 1960
PRICE = {"client": '"0.1"', "apex": '"0.08"', "bridge": '"0.055"', "annotators": '"0.04"'}
LINE = {"client": '"196.00"', "apex": '"156.80"', "bridge": '"107.80"', "annotators": '"78.40"'}
MARGIN = {"apex": '"39.20"', "bridge": '"49.00"', "crane": '"29.40"'}
CLIENT_ONLY = ['"9.80"', '"205.80"']  # the fee and the invoice total


def never(*names, margins=(), client=False):
    """The strings a party must never read: the prices and lines of links not its own."""
    return (
        [PRICE[n] for n in names]
        + [LINE[n] for n in names]
        + [MARGIN[m] for m in margins]
        + (CLIENT_ONLY if client else [])
    )


# reader -> (what it must never see, what it must see somewhere: the test's own check)
RULES = {
    "client": (never("apex", "bridge", "annotators", margins=MARGIN), [PRICE["client"]]),
    "apex": (never("bridge", "annotators", margins=("bridge", "crane")), [PRICE["apex"]]),
    "bridge": (
        never("client", "annotators", margins=("apex", "crane"), client=True),
        [PRICE["apex"], PRICE["bridge"]],
    ),
    "crane": (
        never("client", "apex", margins=("apex", "bridge"), client=True),
        [PRICE["bridge"], MARGIN["crane"]],
    ),
    "crane_annotator": (never("client", "apex", margins=MARGIN, client=True), [LINE["annotators"]]),
    "crane_reviewer": (never("client", "apex", margins=MARGIN, client=True), []),
    "rival_owner": (never(*PRICE, margins=MARGIN, client=True), []),
    "rival_client": (never(*PRICE, margins=MARGIN, client=True), []),
}


@pytest.fixture
def story(app, api, cast):
    t = seed_teams(app, ("apex", "bridge", "crane"))
    order_id = post_order(
        api, cast.client, items=BOXES, price="0.10", batch_size=490, sourcing="bids"
    )
    a = award(api, cast.client, order_id, t["apex"], "0.10", BOXES)
    b = pass_down(api, t["apex"], a, t["bridge"], "0.08", BOXES)
    offer = api.post(
        f"/contracts/{b['id']}/offers",
        t["bridge"].owner,
        {"unit_price": "0.055", "quantity": BOXES},
    ).body
    bid = api.post(
        f"/offers/{offer['id']}/bids", t["crane"].owner, {"unit_price": "0.055", "quantity": BOXES}
    ).body
    c_id = api.post(f"/bids/{bid['id']}/award", t["bridge"].owner, {}).body["contract_id"]
    work(api, t["crane"], order_id, "0.04", BOXES)
    invoice = api.post(f"/orders/{order_id}/invoices", cast.admin).body
    apex_bid = api.get(f"/orders/{order_id}/bids", cast.client).body[0]["id"]
    readers = {
        "client": cast.client,
        "apex": t["apex"].owner,
        "bridge": t["bridge"].owner,
        "crane": t["crane"].owner,
        "crane_annotator": t["crane"].annotator,
        "crane_reviewer": t["crane"].reviewer,
        "rival_owner": cast.rival_owner,
        "rival_client": cast.rival_client,
    }
    ids = {
        "order_id": [order_id],
        "contract_id": [a["id"], b["id"], c_id],
        "offer_id": [offer["id"]],
        "bid_id": [apex_bid, bid["id"]],
        "invoice_id": [invoice["id"]],
    }
    return readers, ids


def every_view(api, token, ids) -> dict[str, str]:
    """Every GET of the OpenAPI document with every id of the story: path -> body (200s)."""
    paths = api.client.get("/api/openapi.json").json["paths"]
    seen = {}
    for path, operations in paths.items():
        if "get" not in operations:
            continue
        names = re.findall(r"{(\w+)}", path)
        if any(name not in ids for name in names):
            continue
        for values in itertools.product(*(ids[name] for name in names)):
            url = path.removeprefix("/api/v1")
            for name, value in zip(names, values, strict=True):
                url = url.replace(f"{{{name}}}", str(value))
            for query in ("?limit=1000", "?format=csv") if "margins" in url else ("?limit=1000",):
                answer = api.get(url + query, token)
                if answer.status == 200:
                    # CSV cells quoted as JSON strings are, so one search fits both.
                    text = answer.text if answer.body is not None else _cells(answer.text)
                    seen[url + query] = text
    return seen


def _cells(text: str) -> str:
    return json.dumps(list(csv.reader(io.StringIO(text))))


def test_no_party_reads_a_price_two_links_away(api, story):
    readers, ids = story
    leaks, missing = {}, {}
    for reader, (forbidden, expected) in RULES.items():
        views = every_view(api, readers[reader], ids)
        leaks[reader] = sorted(
            {(url, s) for url, text in views.items() for s in forbidden if s in text}
        )
        everything = "".join(views.values())
        missing[reader] = [s for s in expected if s not in everything]
    assert leaks == {reader: [] for reader in RULES}
    assert missing == {reader: [] for reader in RULES}
