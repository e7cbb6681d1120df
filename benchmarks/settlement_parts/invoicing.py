"""Invoicing each order's accepted items through the real service, timed, and the checks of
each invoice against the items it bills."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from .statements import StatementLog
from .world import ADMIN_USER, PLATFORM, PRICES, Order, World

RAW_PAY = """
    SELECT u, sum(n)::bigint, sum((n * rate + 5000) / 10000)::bigint
    FROM (SELECT annotator_user_id AS u, rate_micros AS rate, count(*) AS n FROM submissions
          WHERE order_id = %(order)s AND status = 'accepted' GROUP BY 1, 2) x
    GROUP BY u
"""


def admin_actor():
    from marketplace.identity.actor import Actor
    from marketplace.identity.models import Role

    return Actor(ADMIN_USER, frozenset({(PLATFORM, Role.PLATFORM_ADMIN)}))


def line(items: int, price_micros: int) -> int:
    """items x price in fen, rounded once, half-up (CNY: 10,000 micros a fen)."""
    return (items * price_micros + 5000) // 10000


def invoice_orders(app, log: StatementLog, world: World) -> dict[int, dict[str, Any]]:
    """One invoice per order by `invoice_accepted_items`, in its own unit of work."""
    from marketplace.db import unit_of_work
    from marketplace.payments.invoices import Terms, invoice_accepted_items

    invoices = {}
    for order in world.orders:
        log.start()
        started, cpu = time.perf_counter(), time.process_time()
        with app.app_context(), unit_of_work() as session:
            invoice = invoice_accepted_items(
                session, admin_actor(), order.id, Terms.from_config(app.config)
            )
            facts = {
                "invoice_id": invoice.id,
                "number": invoice.number,
                "items_minor": invoice.items_minor,
                "fee_minor": invoice.fee_minor,
                "total_minor": invoice.total_minor,
            }
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        statements = log.stop()
        facts.update(
            seconds=round(seconds, 2), app_cpu_seconds=round(cpu, 2), statements=statements
        )
        invoices[order.id] = facts
        slowest = next(iter(statements["by_label"].items()), ("-", {"seconds": 0}))
        print(
            f"  invoice order {order.id} ({order.items:,} items): {seconds:7.1f} s, "
            f"{statements['statements']:,} statements ({statements['db_seconds']:.1f} s db), "
            f"slowest: {slowest[0]} {slowest[1]['seconds']:.1f} s",
            flush=True,
        )
    return invoices


def find_invoices(conninfo: str, world: World) -> dict[int, dict[str, Any]]:
    """The invoices of a kept database (one per order, none paid)."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT order_id, id, number, items_minor, fee_minor, total_minor, paid_minor "
            "FROM invoices ORDER BY order_id"
        ).fetchall()
    found = {
        order_id: {
            "invoice_id": id_,
            "number": number,
            "items_minor": items,
            "fee_minor": fee,
            "total_minor": total,
        }
        for order_id, id_, number, items, fee, total, paid in rows
        if not paid
    }
    if sorted(found) != [order.id for order in world.orders]:
        raise SystemExit(f"the kept database's unpaid invoices are for orders {sorted(found)}")
    return found


def check_invoice(conninfo: str, world: World, order: Order, invoice: dict) -> dict[str, int]:
    """Each must be 0: the invoice bills every accepted item of the order once, each link's
    margin is its line minus the line below, each annotator's pay is her items x rates
    (each rate's line rounded half-up), and its shares add up to its total."""
    from marketplace.money import fee_minor

    params = {"order": order.id, "invoice": invoice["invoice_id"]}
    n = order.items
    ca, cb, cc = order.contracts
    with psycopg.connect(conninfo) as conn:
        one = lambda sql: conn.execute(sql, params).fetchone()[0]  # noqa: E731
        pay = {u: (items, amount) for u, items, amount in conn.execute(RAW_PAY, params)}
        shares = {
            (role, contract, user): (items, amount)
            for role, contract, user, items, amount in conn.execute(
                "SELECT role, contract_id, user_id, items, amount_minor FROM invoice_shares "
                "WHERE invoice_id = %(invoice)s",
                params,
            )
        }
        checks = {
            "billed items other than the order's accepted items": one(
                "SELECT (SELECT count(*) FROM invoice_items WHERE invoice_id = %(invoice)s) "
                "- (SELECT count(*) FROM submissions "
                "   WHERE order_id = %(order)s AND status = 'accepted')"
            ),
            "the order's submissions not marked with the invoice": one(
                "SELECT count(*) FROM submissions WHERE order_id = %(order)s "
                "AND invoice_id IS DISTINCT FROM %(invoice)s"
            ),
        }
    annotators = {u: v for (role, _, u), v in shares.items() if role == "annotator"}
    margins = {c: v[1] for (role, c, _), v in shares.items() if role == "margin"}
    fee = [v[1] for (role, _, _), v in shares.items() if role == "fee"]
    items_minor = line(n, PRICES["client -> A"])
    expected_margins = {
        ca: items_minor - line(n, PRICES["A -> B"]),
        cb: line(n, PRICES["A -> B"]) - line(n, PRICES["B -> C"]),
        cc: line(n, PRICES["B -> C"]) - sum(amount for _, amount in pay.values()),
    }
    checks.update(
        {
            "annotators' shares other than their items x rates": sum(
                annotators.get(u) != pay.get(u) for u in pay.keys() | annotators.keys()
            ),
            "margins other than line minus the line below": sum(
                margins.get(c) != amount for c, amount in expected_margins.items()
            ),
            "client's line other than items x 0.10, fee other than the platform's": int(
                invoice["items_minor"] != items_minor
                or fee != [fee_minor(items_minor, world.fee_bps)]
                or invoice["total_minor"] != items_minor + fee[0]
            ),
            "shares not adding up to the invoice total": abs(
                invoice["total_minor"] - sum(amount for _, amount in shares.values())
            ),
        }
    )
    invoice["shares"] = len(shares)
    invoice["annotator_shares"] = len(annotators)
    invoice["annotators_minor"] = sum(amount for _, amount in annotators.values())
    invoice["margins_minor"] = {
        link: margins.get(c) for link, c in zip(PRICES, order.contracts, strict=True)
    }
    return checks
