"""Invoicing accepted items: lines, the platform fee, and who earns what of it."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import clock, ledger
from marketplace.db import keyset_page
from marketplace.errors import Conflict
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.identity.service import platform_party
from marketplace.ledger import AccountKind
from marketplace.money import fee_minor, format_micros, format_minor
from marketplace.orders.funding import post_statement
from marketplace.orders.models import BillingPeriod, Funding, Order
from marketplace.orders.service import get_order
from marketplace.payments.accounts import client_books
from marketplace.payments.announce import invoice_issued
from marketplace.payments.billing import Period, current_period_starts, periods_between
from marketplace.payments.credit import apply_credit
from marketplace.payments.fair_pay import top_up_line
from marketplace.payments.models import (
    Invoice,
    InvoiceCounter,
    InvoiceItem,
    InvoiceLine,
    InvoiceShare,
    LineKind,
    ShareRole,
)
from marketplace.payments.visibility import clients_row, clients_rows
from marketplace.payments.work import accepted_at, accepted_work, unbilled
from marketplace.subcontract.chains import LinkLines, link_lines
from marketplace.subcontract.models import Contract
from marketplace.subcontract.service import order_contracts
from marketplace.workers.models import Submission, SubmissionStatus
from marketplace.workers.rejections import void_rejected_items


@dataclass(frozen=True)
class Terms:
    """The platform's billing terms: its fee, and the zone of due dates and invoice years."""

    fee_bps: int
    timezone: str
    # Items that paid their annotators below the reference wage are topped up (fair_pay.py).
    fair_pay_top_ups: bool = False

    @classmethod
    def from_config(cls, config: Mapping) -> "Terms":
        return cls(
            fee_bps=config["PLATFORM_FEE_BPS"],
            timezone=config["BUSINESS_TIMEZONE"],
            fair_pay_top_ups=config["FAIR_PAY_TOP_UPS"],
        )


def invoice_accepted_items(session: Session, actor: Actor, order_id: int, terms: Terms) -> Invoice:
    """Bill the client for every accepted, unbilled item of an order.

    One items line per contract of the client's (quantity x contract price,
    rounded once) and the platform fee on top. The same unit of work records who
    earns what, down every chain: each link's margin (its line minus its
    subcontracts' lines and its annotators' pay), each annotator's accepted items
    x piece rate (a line per rate, rounded once) and the platform's fee, all
    pending in one balanced ledger transaction that the client's receivable
    balances. Each item is billed once, even under races.
    """
    order = get_order(session, actor, order_id)
    actor.require(Role.PLATFORM_ADMIN)
    invoice = _invoice_order(session, order, terms)
    audit.record(
        session,
        actor,
        "invoice.issued",
        ("invoice", invoice.id),
        number=invoice.number,
        order_id=order.id,
        total=format_minor(invoice.total_minor, invoice.currency),
        currency=invoice.currency,
    )
    return invoice


def invoice_all_accepted_work(session: Session, terms: Terms) -> list[Invoice]:
    """The scheduled invoicing, by each order's billing period (its client's terms).

    A weekly or monthly order is invoiced for the items accepted before the current
    period began, one line per period and chain; an order billed on completion,
    once every item is accepted. Funded orders are `settle_funded_work`'s (every 10
    minutes; kept apart, so the two never lock the same clients in turn). Running it
    again, or after downtime, bills nothing twice: each item is billed once, and a
    period left behind is billed whole.
    """
    invoiced = select(Order.id).where(Order.funding == Funding.INVOICED)
    return _invoice_due(
        session,
        terms,
        select(Submission.order_id).where(unbilled(), Submission.order_id.in_(invoiced)),
    )


def settle_funded_work(session: Session, terms: Terms) -> list[Invoice]:
    """A statement of each funded order's items accepted since its last one, paid from the
    order's reservation as it is issued: their money is available down the chain at
    once, waiting on no invoice. What was reserved for rejected items goes back to the
    client first. Each item is billed once, however often this runs."""
    void_rejected_items(session)
    funded = select(Order.id).where(Order.funding != Funding.INVOICED)
    return _invoice_due(
        session,
        terms,
        select(Submission.order_id).where(unbilled(), Submission.order_id.in_(funded)),
    )


def _invoice_due(session: Session, terms: Terms, orders_with_unbilled) -> list[Invoice]:
    order_ids = session.scalars(orders_with_unbilled.distinct().order_by(Submission.order_id)).all()
    now = clock.now()
    invoices = []
    for order_id in order_ids:
        order = session.get(Order, order_id)
        if order.funding != Funding.INVOICED:
            before = None  # funded work is settled as soon as it is accepted
        elif order.billing_period == BillingPeriod.ON_COMPLETION:
            if not _completed(session, order):
                continue
            before = None
        else:
            before = current_period_starts(order.billing_period, now, terms.timezone)
        if session.scalar(select(Submission.id).where(_billable(order.id, before)).limit(1)):
            invoices.append(_invoice_order(session, order, terms, before=before))
    return invoices


def _billable(order_id: int, before: datetime | None):
    accepted_before = [] if before is None else [accepted_at() < before]
    return and_(Submission.order_id == order_id, unbilled(), *accepted_before)


def _completed(session: Session, order: Order) -> bool:
    """Every item of the order has an accepted submission."""
    accepted = session.scalar(
        select(func.count(Submission.task_id.distinct())).where(
            Submission.order_id == order.id, Submission.status == SubmissionStatus.ACCEPTED
        )
    )
    return accepted >= order.quantity


def _invoice_order(
    session: Session, order: Order, terms: Terms, before: datetime | None = None
) -> Invoice:
    invoice = _open_invoice(session, order, terms)
    first, last = _bill_unbilled_items(session, invoice, before)
    contracts = order_contracts(session, order.id)
    roots = _chain_roots(contracts)
    lines, shares = [], []
    for period in periods_between(order.billing_period, first, last, terms.timezone):
        work = accepted_work(session, invoice=invoice, since=period.starts, until=period.ends)
        if work:
            period_lines, period_shares = _period_lines(order, contracts, roots, work, period)
            lines += period_lines
            shares += period_shares
    invoice.items_minor = sum(line.amount_minor for line in lines)
    invoice.fee_minor = _fee(session, order, invoice, terms.fee_bps)
    invoice.total_minor = invoice.items_minor + invoice.fee_minor
    fee_line = InvoiceLine(
        kind=LineKind.FEE,
        description=f"Platform fee {terms.fee_bps / 100:g} %",
        amount_minor=invoice.fee_minor,
    )
    lines.append(fee_line)
    shares.append(
        InvoiceShare(
            party_id=platform_party(session).id,
            role=ShareRole.FEE,
            items=sum(line.quantity for line in lines if line.kind == LineKind.ITEMS),
            amount_minor=invoice.fee_minor,
            line=fee_line,
        )
    )
    if terms.fair_pay_top_ups:
        top_up, top_up_shares = top_up_line(session, order, invoice, contracts)
        if top_up is not None:
            lines.append(top_up)
            shares += top_up_shares
            invoice.total_minor += top_up.amount_minor
    invoice.lines = lines
    for share in shares:
        share.invoice = invoice
    session.add_all(shares)
    _post_accrual(session, invoice, shares)
    invoice_issued(session, invoice)
    items = sum(line.quantity for line in lines if line.kind == LineKind.ITEMS)
    order.billed_items += items
    funded = order.funding != Funding.INVOICED
    if funded:
        # A funded order's invoice is a statement of work its reservation already paid.
        # The reservation holds the items and the fee; a top-up is paid from the balance.
        post_statement(
            session,
            order,
            invoice_id=invoice.id,
            items=items,
            total_minor=invoice.items_minor + invoice.fee_minor,
        )
    # Money the client sent ahead (an overpayment) pays the new invoice at once.
    apply_credit(
        session, invoice.client_party_id, invoice.currency, first=invoice if funded else None
    )
    return invoice


def _fee(session: Session, order: Order, invoice: Invoice, fee_bps: int) -> int:
    """The platform's fee on the invoice's items, rounded once. A funded order's statements
    round it on the order's whole bill instead (the fee on everything billed so far,
    less the fees billed before), so they add up to exactly what its reservation held."""
    if order.funding == Funding.INVOICED:
        return fee_minor(invoice.items_minor, fee_bps)
    items_before, fees_before = session.execute(
        select(
            func.coalesce(func.sum(Invoice.items_minor), 0),
            func.coalesce(func.sum(Invoice.fee_minor), 0),
        ).where(Invoice.order_id == order.id, Invoice.id != invoice.id)
    ).one()
    return fee_minor(int(items_before) + invoice.items_minor, fee_bps) - int(fees_before)


def _chain_roots(contracts: list[Contract]) -> dict[int, int]:
    """Each contract's chain root: the client's contract it descends from."""
    parents = {contract.id: contract.parent_contract_id for contract in contracts}

    def root(contract_id: int) -> int:
        while parents[contract_id] is not None:
            contract_id = parents[contract_id]
        return contract_id

    return {contract_id: root(contract_id) for contract_id in parents}


def _period_lines(
    order: Order, contracts: list[Contract], roots: dict[int, int], work, period: Period
) -> tuple[list[InvoiceLine], list[InvoiceShare]]:
    """One period's client lines (one per chain) and the shares each line pays, down the
    chain: each link's margin, each annotator's items x piece rate."""
    links = link_lines(contracts, work)
    client_lines = {
        link.contract.id: _client_line(order, link, period)
        for link in links.values()
        if link.items and link.contract.parent_contract_id is None
    }
    shares = []
    for link in links.values():
        if not link.items:
            continue
        contract = link.contract
        line = client_lines[roots[contract.id]]
        shares.append(
            InvoiceShare(
                party_id=contract.downstream_party_id,
                contract_id=contract.id,
                role=ShareRole.MARGIN,
                items=link.items,
                amount_minor=link.margin_minor,
                line=line,
            )
        )
        shares += [
            InvoiceShare(
                party_id=contract.downstream_party_id,
                user_id=annotator,
                contract_id=contract.id,
                role=ShareRole.ANNOTATOR,
                items=count,
                amount_minor=amount,
                line=line,
            )
            for annotator, (count, amount) in link.annotators.items()
        ]
    return [client_lines[contract_id] for contract_id in sorted(client_lines)], shares


def _client_line(order: Order, link: LinkLines, period: Period) -> InvoiceLine:
    contract = link.contract
    return InvoiceLine(
        kind=LineKind.ITEMS,
        description=(
            f"{period.label()}: {link.items} x {order.task_type} at "
            f"{format_micros(contract.unit_price_micros)} {order.currency} "
            f"({contract.downstream.name})"
        ),
        contract_id=contract.id,
        quantity=link.items,
        unit_price_micros=contract.unit_price_micros,
        amount_minor=link.line_minor,
        period_start=period.first_day,
        period_end=period.last_day,
    )


def _open_invoice(session: Session, order: Order, terms: Terms) -> Invoice:
    """A numbered, empty invoice dated now, due after the order's payment terms."""
    now = clock.now()
    today = now.astimezone(ZoneInfo(terms.timezone)).date()
    invoice = Invoice(
        number=next_number(session, InvoiceCounter, "INV", today.year),
        client_party_id=order.client_party_id,
        order_id=order.id,
        currency=order.currency,
        issued_at=now,
        # A funded order's statement is paid as it is issued.
        due_on=today
        + timedelta(days=order.payment_terms_days if order.funding == Funding.INVOICED else 0),
        items_minor=0,
        fee_minor=0,
        total_minor=0,
    )
    session.add(invoice)
    session.flush()
    return invoice


def _bill_unbilled_items(
    session: Session, invoice: Invoice, before: datetime | None
) -> tuple[datetime, datetime]:
    """Tie the order's accepted, unbilled items (accepted before `before`, if given) to the
    invoice, and return when the first and last of them were accepted (409 if none).

    Each item can be tied to one invoice only (the link's primary key), so two
    invoices racing for the same items cannot both bill them.
    """
    try:
        with session.begin_nested():
            session.execute(
                insert(InvoiceItem).from_select(
                    ["submission_id", "invoice_id"],
                    select(Submission.id, literal(invoice.id)).where(
                        _billable(invoice.order_id, before)
                    ),
                )
            )
    except IntegrityError as exc:
        raise Conflict(
            "Another invoice is billing these items right now; retry.", code="invoicing_in_progress"
        ) from exc
    billed = select(InvoiceItem.submission_id).where(InvoiceItem.invoice_id == invoice.id)
    marked = session.execute(
        update(Submission)
        .where(Submission.id.in_(billed))
        .values(invoice_id=invoice.id)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount == 0:
        raise Conflict("No accepted items are waiting to be billed.", code="nothing_to_invoice")
    first, last = session.execute(
        select(func.min(accepted_at()), func.max(accepted_at())).where(
            Submission.invoice_id == invoice.id
        )
    ).one()
    return _aware(first), _aware(last)


def _aware(moment: datetime) -> datetime:
    """An aggregate's moment as UTC: SQLite gives it back without its zone."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _post_accrual(session: Session, invoice: Invoice, shares: list[InvoiceShare]) -> None:
    """The client owes the invoice total; every share is pending earnings until it pays."""
    receivable = client_books(session, invoice.client_party_id, invoice.currency).receivable
    holders = {(share.party_id, share.user_id) for share in shares}
    pending = ledger.accounts(session, holders, kind=AccountKind.PENDING, currency=invoice.currency)
    ledger.post(
        session,
        key=f"invoice:{invoice.id}:issue",
        kind="invoice_issued",
        currency=invoice.currency,
        legs=[
            ledger.debit(receivable, invoice.total_minor),
            *(
                ledger.credit(pending[(share.party_id, share.user_id)], share.amount_minor)
                for share in shares
            ),
        ],
        memo=f"Invoice {invoice.number}",
    )


def next_number(session: Session, counter: type, prefix: str, year: int) -> str:
    """The year's next number of a series (invoices, credit notes). The counter row is
    locked until commit, so concurrent issues queue and a rolled-back one leaves no gap."""
    bumped = session.execute(
        update(counter)
        .where(counter.year == year)
        .values(last_number=counter.last_number + 1)
        .returning(counter.last_number)
    ).scalar()
    if bumped is None:
        try:
            with session.begin_nested():
                session.add(counter(year=year, last_number=1))
            bumped = 1
        except IntegrityError:
            return next_number(session, counter, prefix, year)
    return f"{prefix}-{year}-{bumped:06d}"


def get_invoice(session: Session, actor: Actor, invoice_id: int) -> Invoice:
    """An invoice of the actor's client (any, for admins); 404 otherwise."""
    return clients_row(session, actor, Invoice, invoice_id, "invoice")


def list_invoices(session: Session, actor: Actor, *, limit: int, after: int) -> list[Invoice]:
    return keyset_page(session, clients_rows(actor, Invoice), limit=limit, after=after)
