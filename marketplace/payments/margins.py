"""The margin report: what a team keeps on each link of an order's chains, and why."""

import csv
import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.db import MAX_ID
from marketplace.errors import Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Party, Role
from marketplace.money import format_micros, format_minor
from marketplace.orders.models import Order
from marketplace.payments.models import InvoiceShare, ShareRole
from marketplace.payments.work import accepted_work
from marketplace.subcontract.chains import LinkLines, link_lines
from marketplace.subcontract.service import order_contracts

CSV_COLUMNS = (
    "order_id",
    "contract_id",
    "depth",
    "upstream",
    "unit_price",
    "currency",
    "items",
    "upstream_line",
    "subcontract_lines",
    "annotator_lines",
    "downstream_lines",
    "margin",
    "invoiced_items",
    "invoiced_margin",
)


def margin_report(session: Session, actor: Actor, order_id: int, team_id: int | None) -> dict:
    """A team's links on an order, over every item accepted so far: items, its upstream
    line, its downstream lines (its subcontracts, its annotators' pay) and its margin.

    The team's owner sees its own report; admins any team's (name it). The
    report shows the team's own prices only: its upstream one, and those it
    passed down at. Lines are rounded once over all accepted items; an invoice
    rounds over the items it bills, so each link also shows what the invoices
    so far credited it (`invoiced_items`, `invoiced_margin`: the ledger's figures).
    """
    if actor.is_platform_admin:
        if team_id is None:
            raise Invalid("Name the team whose margins to show.", code="team_required")
        team = team_id
    else:
        actor.require(Role.TEAM_OWNER)
        team = actor.acting_for(Role.TEAM_OWNER, team_id, "team")
    contracts = order_contracts(session, order_id) if 0 < order_id <= MAX_ID else []
    mine = [c for c in contracts if c.downstream_party_id == team]
    if not mine:
        raise NotFound(
            f"No order {order_id} with a contract of team {team}.", code="order_not_found"
        )
    lines = link_lines(contracts, accepted_work(session, order_id=order_id))
    invoiced = _invoiced_margins(session, [contract.id for contract in mine])
    links = [
        _link(lines[contract.id], lines) | invoiced.get(contract.id, NOTHING_INVOICED)
        for contract in mine
    ]
    currency = mine[0].currency
    return {
        "order_id": order_id,
        "order_title": session.get(Order, order_id).title,
        "team_id": team,
        "team_name": session.get(Party, team).name,
        "currency": currency,
        "links": links,
        "totals": {
            "currency": currency,
            **{
                key: sum(link[key] for link in links)
                for key in (
                    "items",
                    "upstream_line",
                    "downstream_lines",
                    "margin",
                    "invoiced_items",
                    "invoiced_margin",
                )
            },
        },
    }


NOTHING_INVOICED = {"invoiced_items": 0, "invoiced_margin": 0}


def _invoiced_margins(session: Session, contract_ids: list[int]) -> dict[int, dict[str, int]]:
    """What the invoices so far credited each link as its margin: the ledger's figures."""
    rows = session.execute(
        select(
            InvoiceShare.contract_id,
            func.sum(InvoiceShare.items),
            func.sum(InvoiceShare.amount_minor),
        )
        .where(InvoiceShare.contract_id.in_(contract_ids), InvoiceShare.role == ShareRole.MARGIN)
        .group_by(InvoiceShare.contract_id)
    )
    return {
        contract_id: {"invoiced_items": items, "invoiced_margin": amount}
        for contract_id, items, amount in rows
    }


def _link(link: LinkLines, lines: dict[int, LinkLines]) -> dict[str, Any]:
    contract = link.contract
    return {
        "contract_id": contract.id,
        "currency": contract.currency,
        "depth": contract.depth,
        "upstream_name": contract.upstream.name,
        "unit_price_micros": contract.unit_price_micros,
        "items": link.items,
        "upstream_line": link.line_minor,
        "subcontracts": [
            {
                "contract_id": child_id,
                "currency": contract.currency,
                "downstream_name": lines[child_id].contract.downstream.name,
                "unit_price_micros": lines[child_id].contract.unit_price_micros,
                "items": lines[child_id].items,
                "line": line,
            }
            for child_id, line in link.subcontract_lines.items()
        ],
        "annotators": {
            "currency": contract.currency,
            "items": link.own_items,
            "line": link.annotators_minor,
        },
        "downstream_lines": link.downstream_minor,
        "margin": link.margin_minor,
    }


def margin_csv(report: dict) -> str:
    """The report as CSV: a row per link, then the totals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    currency = report["currency"]

    def money(minor: int) -> str:
        return format_minor(minor, currency)

    for link in report["links"]:
        writer.writerow(
            [
                report["order_id"],
                link["contract_id"],
                link["depth"],
                link["upstream_name"],
                format_micros(link["unit_price_micros"]),
                currency,
                link["items"],
                money(link["upstream_line"]),
                money(sum(sub["line"] for sub in link["subcontracts"])),
                money(link["annotators"]["line"]),
                money(link["downstream_lines"]),
                money(link["margin"]),
                link["invoiced_items"],
                money(link["invoiced_margin"]),
            ]
        )
    totals = report["totals"]
    writer.writerow(
        [
            report["order_id"],
            "total",
            "",
            "",
            "",
            currency,
            totals["items"],
            money(totals["upstream_line"]),
            "",
            "",
            money(totals["downstream_lines"]),
            money(totals["margin"]),
            totals["invoiced_items"],
            money(totals["invoiced_margin"]),
        ]
    )
    return out.getvalue()
