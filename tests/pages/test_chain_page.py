"""The team owner's chain page through Flask's test client: she bids on a tender, takes an
offer below her cost floor and is warned, passes work down, and reads her margin to the
fen; she never sees a price above her own link, and another chain is not found."""

import re

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.subcontract.models import Bid, Contract, CostFloor, Offer
from tests import flows
from tests.pages.kit import PageClient, text
from tests.pages.test_board import owner_pages
from tests.subcontract.chain_kit import award, seed_teams
from tests.support import row_counts

# Through the pages and the API end to end: `make test` runs them; `make check` stays
# under a minute.
pytestmark = pytest.mark.slow


def bids_order(api, cast, items=100, batch_size=10) -> int:
    return flows.post_order(
        api, cast.client, items=items, batch_size=batch_size, price="0.10", sourcing="bids"
    )


def words(answer) -> str:
    """The page's text without tags, spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(answer)))


def test_she_bids_on_a_tender_and_a_bad_price_is_said_beside_its_field(app, api, cast):
    order = bids_order(api, cast)
    browser = owner_pages(app, cast)
    page = text(browser.get("/chain"))
    assert f'id="tender-{order}"' in page and "招标" in page
    before = row_counts(app)
    answer = browser.post(
        f"/chain/tenders/{order}/bids",
        {"unit_price": "abc", "quantity": "100"},
        token_from="/chain",
    )
    assert answer.status_code == 422
    assert f'id="tender-{order}-unit_price" name="unit_price"' in text(answer)
    assert f'aria-describedby="tender-{order}-unit_price-error"' in text(answer)
    assert row_counts(app) == before
    answer = browser.post(
        f"/chain/tenders/{order}/bids",
        {"unit_price": "0.095", "quantity": "60"},
        token_from="/chain",
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, f"/chain#tender-{order}")
    with app.app_context():
        [bid] = db.session.scalars(select(Bid)).all()
        assert (bid.team_party_id, bid.unit_price_micros, bid.quantity) == (
            cast.party_ids["lotus"],
            95_000,
            60,
        )
    assert "60 条，单价 ¥0.095 · 待接" in words(browser.get("/chain"))


def test_an_offer_below_her_floor_is_flagged_and_taking_it_warns_her(app, api, cast):
    apex = seed_teams(app, ("apex",))["apex"]
    order = bids_order(api, cast)
    top = award(api, cast.client, order, apex, "0.10", 100)
    browser = owner_pages(app, cast)
    answer = browser.post(
        "/chain/floors",
        {"task_type": "bbox_2d", "currency": "CNY", "unit_price": "0.08"},
        token_from="/chain",
    )
    assert answer.status_code == 302
    with app.app_context():
        [floor] = db.session.scalars(select(CostFloor)).all()
        assert (floor.team_party_id, floor.unit_price_micros) == (cast.party_ids["lotus"], 80_000)
    made = api.post(
        f"/contracts/{top['id']}/offers",
        apex.owner,
        {"to_team_id": cast.party_ids["lotus"], "unit_price": "0.055", "quantity": 100},
    )
    assert made.status == 201, made.body
    offer_id = made.body["id"]

    page = words(browser.get("/chain"))
    assert "0.055" in page and "低于你的成本底价（每条 ¥0.08）" in page
    assert "¥0.1 " not in page and "¥0.10" not in page  # Apex's price is above her link

    before = row_counts(app)
    forged = browser.post(f"/chain/offers/{offer_id}/accept", {"csrf_token": "x"}, token_from=None)
    assert forged.status_code == 400 and row_counts(app) == before

    answer = browser.post(f"/chain/offers/{offer_id}/accept", {}, token_from="/chain")
    assert answer.status_code == 302
    with app.app_context():
        taken = db.session.scalar(
            select(Contract).where(Contract.downstream_party_id == cast.party_ids["lotus"])
        )
        assert (taken.unit_price_micros, taken.quantity, taken.parent_contract_id) == (
            55_000,
            100,
            top["id"],
        )
        assert db.session.get(Offer, offer_id).status == "taken"
    page = browser.get("/chain")
    assert "注意：这个价格低于你的成本底价（每条 ¥0.08）。" in words(page)
    contract_part = text(page).split(f'id="contract-{taken.id}"')[1].split("</li>")[0]
    assert "below-floor" in contract_part
    # Taking it again: the offer is closed, said beside it, and nothing is written.
    before = row_counts(app)
    again = browser.post(f"/chain/offers/{offer_id}/accept", {}, token_from="/chain")
    assert again.status_code == 409 and row_counts(app) == before

    # The chain as she sees it: Apex's link without its price, hers with it.
    chain = words(browser.get(f"/chain/contracts/{taken.id}"))
    assert "不对你显示" in chain and "¥0.055" in chain and "¥0.10" not in chain


def test_she_passes_work_down_and_reads_her_margin_to_the_fen(app, api, cast):
    apex = seed_teams(app, ("apex",))["apex"]
    order = bids_order(api, cast)
    top = award(api, cast.client, order, apex, "0.10", 100)
    made = api.post(
        f"/contracts/{top['id']}/offers",
        apex.owner,
        {"to_team_id": cast.party_ids["lotus"], "unit_price": "0.055", "quantity": 100},
    )
    assert api.post(f"/offers/{made.body['id']}/accept", cast.owner, {}).status == 201
    browser = owner_pages(app, cast)
    with app.app_context():
        mine = db.session.scalar(
            select(Contract.id).where(Contract.downstream_party_id == cast.party_ids["lotus"])
        )
    assert 'class="room">100<' in text(browser.get("/chain"))

    # A price above her own is refused (409), said beside the form, nothing written.
    before = row_counts(app)
    tiger = str(cast.party_ids["tiger"])
    refused = browser.post(
        f"/chain/contracts/{mine}/offers",
        {"to_team_id": tiger, "unit_price": "0.06", "quantity": "40"},
        token_from="/chain",
    )
    assert refused.status_code == 409
    assert "转包合同的单价不能高于上级合同的单价。" in words(refused)
    assert row_counts(app) == before

    answer = browser.post(
        f"/chain/contracts/{mine}/offers",
        {"to_team_id": tiger, "unit_price": "0.05", "quantity": "40"},
        token_from="/chain",
    )
    assert answer.status_code == 302
    with app.app_context():
        offer = db.session.scalar(select(Offer).where(Offer.contract_id == mine))
        assert (offer.to_party_id, offer.unit_price_micros, offer.quantity) == (
            cast.party_ids["tiger"],
            50_000,
            40,
        )
    assert api.post(f"/offers/{offer.id}/accept", cast.rival_owner, {}).status == 201
    # Tiger claims a batch of 10 and its annotator's 7 boxes are accepted.
    batch = next(b for b in api.get("/batches?limit=1000", cast.rival_owner).body)
    assert api.post(f"/batches/{batch['id']}/claim", cast.rival_owner).status == 200
    flows.set_rate(api, cast.rival_owner, order, "0.03")
    flows.review(api, cast.rival_reviewer, accept=flows.submit(api, cast.rival_annotator, 7))

    report = api.get(f"/orders/{order}/margins", cast.owner).body["totals"]
    page = text(browser.get("/chain"))
    margins = page.split(f'data-order="{order}"')[1].split("</table>")[0]
    # 7 boxes: her line 7 x 0.055 = 0.385 -> 0.39; passed down 7 x 0.05 = 0.35; kept 0.04.
    assert '<td class="line"><span class="money" data-minor="39"' in margins
    assert '<td class="down"><span class="money" data-minor="35"' in margins
    assert (
        '<td class="keep"><span class="money" data-minor="4" data-currency="CNY">¥0.04' in margins
    )
    assert (report["upstream_line"], report["downstream_lines"], report["margin"]) == (
        "0.39",
        "0.35",
        "0.04",
    )
    passed = words(browser.get("/chain")).split("已转出")[1]
    assert "转给 Tiger" in passed and "¥0.05" in passed


def test_a_chain_her_team_is_no_link_of_is_not_found(app, api, cast):
    order = bids_order(api, cast)
    bid = api.post(f"/orders/{order}/bids", cast.rival_owner, {"unit_price": "0.1", "quantity": 5})
    awarded = api.post(f"/bids/{bid.body['id']}/award", cast.client, {})
    contract_id = awarded.body["contract_id"]
    browser = owner_pages(app, cast)
    answer = browser.get(f"/chain/contracts/{contract_id}")
    assert (
        answer.status_code == 404 == api.get(f"/contracts/{contract_id}/chain", cast.owner).status
    )
    assert "Tiger" not in text(answer)
    li = PageClient(app.test_client())
    li.sign_in("li@example.com")
    assert li.get(f"/chain/contracts/{contract_id}").status_code == 403
