"""Refunds and chargebacks: money that goes back to the client, taken back down the chain.

What the payment left as the client's credit goes back first; the rest is taken
from the invoices it paid, the latest first. Each invoice is owed that much again,
and the shares it had settled go back from available to pending, split as
settlement splits (by largest remainder, weighted by what each share has had).

Work a funded order's reservation paid for is never taken back at all: the reversal
takes the client's balance first, then what its funded orders hold reserved (their
next drops wait), and what those lack leaves the balance below zero: the platform's
loss until the client pays it back, with the client on credit hold.

Money already paid out to an annotator is never clawed back from her: the part of
her share she no longer holds is taken from her team instead. Its available balance
may go below zero, and its future earnings net it; its margin share on that link
waits for the client's money in her place, so when the client pays again the team
is made whole and she is not paid twice.
"""

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.errors import Conflict
from marketplace.identity import audit
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.identity.standing import place_hold
from marketplace.ledger import Account, AccountKind, Entry, Holder
from marketplace.money import format_minor
from marketplace.orders.funding import client_balance, void_for_reversal
from marketplace.orders.models import Funding, Order
from marketplace.payments.accounts import client_books, platform_bank
from marketplace.payments.amounts import minor_units
from marketplace.payments.collection import MANUAL_GATEWAY, get_payment
from marketplace.payments.credit import apply_credit, hold_client
from marketplace.payments.models import (
    Application,
    ApplicationKind,
    Invoice,
    InvoiceShare,
    InvoiceStatus,
    Payment,
    Reversal,
    ShareRole,
)
from marketplace.payments.settlement import (
    Parts,
    earning_legs,
    invoice_shares,
    per_holder,
    record_parts,
    split,
)


def record_reversal(
    session: Session,
    actor: Actor,
    payment_id: int,
    *,
    kind: str,
    amount: Decimal,
    reference: str,
    reason: str,
) -> tuple[Reversal, bool]:
    """Record a refund or chargeback of a payment (platform admins): see `reverse_payment`."""
    payment = get_payment(session, actor, payment_id)
    actor.require(Role.PLATFORM_ADMIN)
    if payment.gateway != MANUAL_GATEWAY:
        raise Conflict(
            f"Refund a {payment.gateway} payment in {payment.gateway}: its event records it here.",
            code="refund_at_gateway",
        )
    amount_minor = minor_units(amount, payment.currency, "amount")
    if kind == ApplicationKind.REFUND:
        _refuse_refund_beyond_balance(session, payment, amount_minor)
    reversal, recorded = reverse_payment(
        session,
        payment,
        kind=kind,
        reference=reference,
        amount_minor=amount_minor,
        reason=reason,
        recorded_by_user_id=actor.user_id,
    )
    if recorded:
        audit.record(
            session,
            actor,
            f"payment.{kind}",
            ("payment", payment.id),
            reversal_id=reversal.id,
            amount=format_minor(reversal.amount_minor, payment.currency),
            currency=payment.currency,
            reference=reference,
            reason=reason,
        )
    return reversal, recorded


def _refuse_refund_beyond_balance(session: Session, payment: Payment, amount_minor: int) -> None:
    """A refund the platform decides gives back only what is the client's to take: what of
    the payment its balance still holds unreserved, and what it paid of invoiced orders'
    invoices (owed again). Never what funded work holds reserved or was paid from (409)."""
    hold_client(session, payment.client_party_id)
    session.refresh(payment)
    if amount_minor > payment.amount_minor - payment.returned_minor:
        return  # more than is left of the payment: `reverse_payment` says so
    balance = max(client_balance(session, payment.client_party_id, payment.currency), 0)
    refundable = min(payment.unapplied_minor, balance) + sum(
        had for _, had in _applied_latest_first(session, payment)
    )
    if amount_minor > refundable:
        raise Conflict(
            "A refund gives back only the client's unreserved balance (and invoices it may "
            "owe again): the rest pays for funded work.",
            code="refund_exceeds_balance",
            refundable=format_minor(refundable, payment.currency),
        )


def payment_reversals(session: Session, actor: Actor, payment_id: int) -> list[Reversal]:
    """The refunds and chargebacks of a payment the actor may see."""
    payment = get_payment(session, actor, payment_id)
    return list(
        session.scalars(
            select(Reversal).where(Reversal.payment_id == payment.id).order_by(Reversal.id)
        )
    )


def reverse_payment(
    session: Session,
    payment: Payment,
    *,
    kind: str,
    reference: str,
    amount_minor: int,
    reason: str = "",
    recorded_by_user_id: int | None = None,
) -> tuple[Reversal, bool]:
    """Give `amount_minor` of a payment back to the client (a refund or chargeback).

    The gateway's reference identifies the reversal: reporting it again returns the
    first (and False) and moves nothing. One balanced ledger transaction, keyed by
    the reversal, takes the money out of the bank and back down every chain it
    settled. More than what is left of the payment is refused (409).
    """
    hold_client(session, payment.client_party_id)
    session.refresh(payment)
    earlier = session.scalar(
        select(Reversal).where(Reversal.payment_id == payment.id, Reversal.reference == reference)
    )
    if earlier is None:
        left = payment.amount_minor - payment.returned_minor
        if amount_minor > left:
            raise Conflict(
                "More than what is left of the payment cannot go back.",
                code="reversal_exceeds_payment",
                left=format_minor(left, payment.currency),
            )
        reversal = Reversal(
            payment_id=payment.id,
            kind=kind,
            reference=reference,
            amount_minor=amount_minor,
            reason=reason,
            absorbed_minor=0,
            recorded_by_user_id=recorded_by_user_id,
        )
        try:
            with session.begin_nested():
                session.add(reversal)
        except IntegrityError:  # reported twice at once: the other report records it
            earlier = session.scalar(
                select(Reversal).where(
                    Reversal.payment_id == payment.id, Reversal.reference == reference
                )
            )
        else:
            _take_back(session, payment, reversal)
            return reversal, True
    if (earlier.kind, earlier.amount_minor) != (kind, amount_minor):
        raise Conflict(
            "This reference was recorded for another refund or chargeback.",
            code="reference_reused",
            reversal_id=earlier.id,
        )
    return earlier, False


def _take_back(session: Session, payment: Payment, reversal: Reversal) -> None:
    currency = payment.currency
    owed_before = max(-client_balance(session, payment.client_party_id, currency), 0)
    from_credit = min(reversal.amount_minor, payment.unapplied_minor)
    if reversal.kind == ApplicationKind.REFUND:
        # A refund the platform gives takes the client's unreserved balance, never what
        # its funded orders hold: the rest comes back from the invoices the payment paid.
        unreserved = max(client_balance(session, payment.client_party_id, currency), 0)
        from_credit = min(from_credit, unreserved)
    rest = reversal.amount_minor - from_credit
    applied = _applied_latest_first(session, payment)
    # Funded orders' statements are not taken back: the rest comes off the client's
    # balance, what it lacks from its reservations, and what they lack leaves the balance
    # below zero (the platform's loss until the client pays it back; and a credit hold).
    from_credit += max(rest - sum(had for _, had in applied), 0)
    rest = reversal.amount_minor - from_credit
    unreserved = max(client_balance(session, payment.client_party_id, currency), 0)
    if from_credit > unreserved:
        void_for_reversal(session, payment.client_party_id, currency, from_credit - unreserved)
    _hold_available(session, [invoice_id for invoice_id, _ in applied], currency)
    annotators = _Purses(session, currency)
    legs = []
    for invoice_id, had in applied:
        if rest == 0:
            break
        amount = min(rest, had)
        rest -= amount
        invoice = session.scalar(
            select(Invoice).where(Invoice.id == invoice_id).with_for_update(of=Invoice)
        )
        application = Application(
            payment_id=payment.id,
            invoice_id=invoice.id,
            kind=reversal.kind,
            amount_minor=-amount,
            reversal_id=reversal.id,
        )
        session.add(application)
        session.flush()
        shares = invoice_shares(session, invoice.id, settled=True)
        parts = split(amount, shares.lines)
        parts, absorbed = annotators.shift_shortfalls(session, invoice.id, parts)
        reversal.absorbed_minor += absorbed
        record_parts(
            session,
            {share: -part for share, part in parts.items()},
            application_id=application.id,
        )
        by_holder = per_holder(shares.holders, parts)
        legs += earning_legs(session, by_holder, currency, source=AccountKind.AVAILABLE)
        payment.applied_minor -= amount
        invoice.paid_minor -= amount
        invoice.status, invoice.paid_at = InvoiceStatus.OPEN, None
    payment.returned_minor += reversal.amount_minor
    client = payment.client_party_id
    bank = platform_bank(session, currency)
    books = client_books(session, client, currency)
    ledger.post(
        session,
        key=f"reversal:{reversal.id}",
        kind=reversal.kind,
        currency=currency,
        legs=[
            ledger.credit(bank, reversal.amount_minor),
            ledger.debit(books.credit, from_credit),
            ledger.debit(books.receivable, reversal.amount_minor - from_credit),
            *legs,
        ],
        memo=f"{reversal.kind} {reversal.reference} of {payment.gateway} {payment.reference}",
    )
    # Credit the client holds from other payments pays the invoices this reopened.
    apply_credit(session, client, currency)
    # What nothing covered: how much further below zero this took the balance.
    owed = max(-client_balance(session, client, currency), 0)
    reversal.uncovered_minor = max(owed - owed_before, 0)
    if owed > 0:
        # The reason is read by every party (a hold the schedule placed): no amount in it.
        place_hold(
            session,
            client,
            reason=f"a {reversal.kind} took its {currency} balance below zero: money its "
            "funded work was already paid from",
            by_user_id=None,
            lifts_when_paid=False,
        )


def _hold_available(session: Session, invoice_ids: list[int], currency: str) -> None:
    """Lock the available accounts of every holder of these invoices' shares, in id order,
    before writing anything: a payout run locks available accounts in the same order, so
    the two queue instead of each holding what the other waits for."""
    if not invoice_ids:
        return
    holders = {
        (party_id, user_id)
        for party_id, user_id in session.execute(
            select(InvoiceShare.party_id, InvoiceShare.user_id)
            .where(InvoiceShare.invoice_id.in_(invoice_ids))
            .distinct()
        )
    }
    accounts = ledger.accounts(session, holders, kind=AccountKind.AVAILABLE, currency=currency)
    session.execute(
        select(Account.id)
        .where(Account.id.in_(sorted(a.id for a in accounts.values())))
        .order_by(Account.id)
        .with_for_update()
    )


def _applied_latest_first(session: Session, payment: Payment) -> list[tuple[int, int]]:
    """(invoice, what this payment still has applied to it), the latest applied first.
    Funded orders' statements are left out: work posted from a reservation is never
    taken back from those who did it."""
    funded = (
        select(Invoice.id)
        .join(Order, Order.id == Invoice.order_id)
        .where(Order.funding != Funding.INVOICED)
    )
    rows = session.execute(
        select(Application.invoice_id, func.sum(Application.amount_minor), func.max(Application.id))
        .where(Application.payment_id == payment.id, Application.invoice_id.not_in(funded))
        .group_by(Application.invoice_id)
    ).all()
    return [
        (invoice_id, int(had))
        for invoice_id, had, _ in sorted(rows, key=lambda row: -row[2])
        if had > 0
    ]


class _Purses:
    """What each annotator still holds as available in one reversal, read once, under the
    lock `_hold_available` took."""

    def __init__(self, session: Session, currency: str) -> None:
        self.session = session
        self.currency = currency
        self.left: dict[Holder, int] = {}

    def _hold(self, holders: set[Holder]) -> None:
        unread = holders - self.left.keys()
        if not unread:
            return
        # Locked already (`_hold_available`), so no payout run pays out what this takes back.
        accounts = ledger.accounts(
            self.session, unread, kind=AccountKind.AVAILABLE, currency=self.currency
        )
        ids = sorted(account.id for account in accounts.values())
        balances = dict(
            self.session.execute(
                select(Entry.account_id, -func.sum(Entry.amount_minor))
                .where(Entry.account_id.in_(ids))
                .group_by(Entry.account_id)
            ).all()
        )
        for holder, account in accounts.items():
            self.left[holder] = max(int(balances.get(account.id, 0)), 0)

    def shift_shortfalls(
        self, session: Session, invoice_id: int, parts: Parts
    ) -> tuple[Parts, int]:
        """Move what annotators can no longer give back onto their team's margin share of
        the same link. Returns the parts to take back and how much the teams absorbed."""
        shares = {
            share.id: share
            for share in session.scalars(
                select(InvoiceShare).where(InvoiceShare.invoice_id == invoice_id)
            )
        }
        margins = {
            share.contract_id: share.id
            for share in shares.values()
            if share.role == ShareRole.MARGIN
        }
        annotator_parts = {
            share_id: part
            for share_id, part in parts.items()
            if shares[share_id].role == ShareRole.ANNOTATOR
        }
        self._hold({(shares[s].party_id, shares[s].user_id) for s in annotator_parts})
        moved: dict[int, int] = defaultdict(int)
        absorbed = 0
        for share_id, part in sorted(annotator_parts.items()):
            share = shares[share_id]
            holder = (share.party_id, share.user_id)
            kept = min(part, self.left[holder])
            self.left[holder] -= kept
            if kept < part:
                moved[share_id] -= part - kept
                moved[margins[share.contract_id]] += part - kept
                absorbed += part - kept
        shifted = dict(parts)
        for share_id, change in moved.items():
            shifted[share_id] = shifted.get(share_id, 0) + change
        return {share: part for share, part in shifted.items() if part}, absorbed
