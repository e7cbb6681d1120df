"""Invoices and their shares, payments that arrived, and payout runs."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, Entity, Id, UTCDateTime
from marketplace.identity.models import Party
from marketplace.orders.models import Order


class InvoiceStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    # Closed by a write-off of what was left: the client never paid it in full.
    WRITTEN_OFF = "written_off"


class LineKind(enum.StrEnum):
    ITEMS = "items"
    FEE = "fee"
    TOP_UP = "top_up"  # fair pay: what lifts underpaid items to the reference wage


class ShareRole(enum.StrEnum):
    """Why a holder earns part of an invoice."""

    ANNOTATOR = "annotator"  # accepted items x the team's piece rate
    TOP_UP = "top_up"  # the client's fair-pay top-up of an annotator's items (fair_pay.py)
    # A link's line minus its downstream lines (subcontracts, and its annotators' pay).
    # Rounding each line once can make it a fen below zero on sub-fen prices.
    MARGIN = "margin"
    FEE = "fee"  # the platform's fee


class InvoiceCounter(Base):
    """The last invoice number used in a year; numbers run without gaps."""

    __tablename__ = "invoice_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Invoice(Entity, Base):
    """What a client owes for accepted items, fee on top. Never edited once issued."""

    __tablename__ = "invoices"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    client_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[date] = mapped_column(Date)
    items_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.OPEN)
    # What payments have settled of it so far (net of refunds and chargebacks).
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # What its credit notes took off it.
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[Party] = relationship(lazy="joined")
    order: Mapped[Order] = relationship()
    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id", lazy="selectin"
    )

    @property
    def outstanding_minor(self) -> int:
        return self.total_minor - self.paid_minor - self.credited_minor


class CreditNoteCounter(Base):
    """The last credit note number used in a year; numbers run without gaps."""

    __tablename__ = "credit_note_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class CreditNoteKind(enum.StrEnum):
    CORRECTION = "correction"  # the invoice asked too much
    WRITE_OFF = "write_off"  # the client will not pay it: the holders bear the loss


class CreditNote(Entity, Base):
    """A correction of an issued invoice: it lowers what the client owes, and each share's
    pending part of it, by largest remainder. The invoice itself is never edited."""

    __tablename__ = "credit_notes"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="positive_amount"),)

    number: Mapped[str] = mapped_column(String(32), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(
        String(16), default=CreditNoteKind.CORRECTION, server_default=CreditNoteKind.CORRECTION
    )
    issued_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    invoice: Mapped[Invoice] = relationship(lazy="joined")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(300))
    # For an items line: the client's contract it bills, how many items, at what price.
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    quantity: Mapped[int | None] = mapped_column(Integer)
    unit_price_micros: Mapped[int | None] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # The billing period whose accepted items it bills (none: the whole order so far).
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceItem(Base):
    """Which accepted submission an invoice bills; each is billed once."""

    __tablename__ = "invoice_items"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)


class InvoiceShare(Base):
    """One holder's part of an invoice: pending until the invoice is paid."""

    __tablename__ = "invoice_shares"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    # The invoice line the share is paid from: its chain's client line, or the fee line.
    line_id: Mapped[int] = mapped_column(ForeignKey("invoice_lines.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # The link of the chain the share is earned on (none for the platform's fee).
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    items: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    invoice: Mapped[Invoice] = relationship(lazy="joined")
    line: Mapped[InvoiceLine] = relationship()


class Payment(Entity, Base):
    """Money that arrived from a client, as its gateway reported it.

    What is not applied to invoices is the client's credit; refunds and chargebacks
    take money back out of it (`returned_minor`)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("gateway", "reference"),
        CheckConstraint("amount_minor > 0", name="positive_amount"),
    )

    client_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    # The invoice the payer named, if any; it is paid first.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(200))
    # The gateway's charge behind it (Stripe's ch_...): transfers it funds name it.
    charge: Mapped[str | None] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date] = mapped_column(Date)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    returned_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    applications: Mapped[list["Application"]] = relationship(
        order_by="Application.id", lazy="selectin", viewonly=True
    )

    @property
    def unapplied_minor(self) -> int:
        """The client's credit from this payment: neither applied nor given back."""
        return self.amount_minor - self.applied_minor - self.returned_minor


class GatewayEvent(Base):
    """An event a gateway sent us (a Stripe webhook), recorded once by its id: a second
    delivery of the same event finds it here and changes nothing."""

    __tablename__ = "gateway_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What we made of it: "recorded", or why nothing was done ("ignored: ...").
    outcome: Mapped[str] = mapped_column(String(300))


class ApplicationKind(enum.StrEnum):
    PAYMENT = "payment"  # money applied to an invoice (when it arrives, or later from credit)
    REFUND = "refund"
    CHARGEBACK = "chargeback"


class Application(Entity, Base):
    """Part of a payment applied to one invoice (positive), or taken back from it (negative)."""

    __tablename__ = "payment_applications"
    __table_args__ = (CheckConstraint("amount_minor <> 0", name="nonzero_amount"),)

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("payment_reversals.id"))
    invoice: Mapped[Invoice] = relationship(lazy="joined")


class SettlementPart(Base):
    """What one application settled of one share (negative when taken back), or what a
    credit note took off it."""

    __tablename__ = "settlement_parts"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="nonzero_amount"),
        CheckConstraint("(application_id IS NULL) <> (credit_note_id IS NULL)", name="one_source"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Money applied or taken back; or, for a credit note, what it took off the share.
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_applications.id"), index=True
    )
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"), index=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("invoice_shares.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class Reversal(Entity, Base):
    """A refund or chargeback: money that went back to the client from a payment."""

    __tablename__ = "payment_reversals"
    __table_args__ = (
        UniqueConstraint("payment_id", "reference"),
        CheckConstraint("amount_minor > 0", name="positive_amount"),
    )

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The gateway's id of the refund or dispute; a second report of it changes nothing.
    reference: Mapped[str] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(300), default="")
    # Of the amount, what annotators had already been paid out and their team absorbed.
    absorbed_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Of the amount, what nothing covered: how far below zero it took the client's balance
    # (work already paid from a reservation is never taken back): the platform's exposure.
    uncovered_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payment: Mapped[Payment] = relationship(lazy="joined")


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"
    REFUNDED = "refunded"
    REFUSED = "refused"


class BalanceRefund(Entity, Base):
    """A client's request for its unreserved balance back, and what an admin made of it:
    refunded (a bank transfer out, recorded as refunds of its payments) or refused."""

    __tablename__ = "balance_refunds"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="positive_amount"),)

    client_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.REQUESTED)
    requested_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The bank transfer that sent the money back, or why the request was refused.
    reference: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))


class RefundWay(enum.StrEnum):
    CARD = "card"  # back to the card it came from, through Stripe
    BANK_TRANSFER = "bank_transfer"  # by the bank transfer an admin sent and recorded


class RefundPartStatus(enum.StrEnum):
    PLANNED = "planned"  # to be sent (a card refund not made yet, or made and not recorded)
    SENT = "sent"  # sent and recorded: a refund of its payment


class BalanceRefundPart(Entity, Base):
    """What of one payment a balance refund sends back, and how: the request's plan,
    written whole in the unit of work that decides how it goes back (payments/
    refund_sending.py). A bank-transfer part is sent as it is written (the admin sent the
    transfer); a card part is planned until its Stripe refund is made and recorded, in a
    unit of work of its own, so paying the request again sends only what is planned.
    Its `created_at` is when it was planned: after a day Stripe may have forgotten the
    refund's idempotency key."""

    __tablename__ = "balance_refund_parts"
    __table_args__ = (
        UniqueConstraint("refund_id", "payment_id"),
        CheckConstraint("amount_minor > 0", name="positive_amount"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_when_sent"),
    )

    refund_id: Mapped[int] = mapped_column(ForeignKey("balance_refunds.id"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    way: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    stripe_refund: Mapped[str | None] = mapped_column(String(200))  # re_..., a card part's
    # The refund of the payment that records it; none for a card refund whose
    # charge.refunded event was recorded first under a later total.
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("payment_reversals.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BalanceWriteOff(Entity, Base):
    """What a platform admin gave up of a client's negative balance: the platform's loss.

    A client's balance goes below zero when a refund or chargeback takes back money its
    funded work was already paid from (payments/reversals.py). The balance is money the
    client owes, and its next top-up repays it; a write-off gives up (part of) it, with
    its reason: Dr the platform's `loss`, Cr the client's `credit`, never beyond zero. It
    does not lift the client's credit hold."""

    __tablename__ = "balance_write_offs"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive_amount"),
        CheckConstraint("reason <> ''", name="reason_given"),
    )

    client_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    # The refund or chargeback that left the balance below zero, if the admin names it.
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("payment_reversals.id"))
    recorded_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class PayoutRun(Entity, Base):
    __tablename__ = "payout_runs"

    currency: Mapped[str] = mapped_column(String(3))
    minimum_minor: Mapped[int] = mapped_column(BigInteger)
    gateway: Mapped[str] = mapped_column(String(16))
    started_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payouts: Mapped[list["Payout"]] = relationship(order_by="Payout.id", lazy="selectin")

    @property
    def total_minor(self) -> int:
        return sum(payout.amount_minor for payout in self.payouts)

    @property
    def failed_minor(self) -> int:
        return sum(payout.failed_minor for payout in self.payouts)


class TransferStatus(enum.StrEnum):
    PENDING = "pending"  # to be sent to the gateway (again, after a crash or an outage)
    SENT = "sent"  # the gateway took it (the bank file, for the manual gateway)
    FAILED = "failed"  # refused: its money went back to the payee's available balance


class Payout(Entity, Base):
    """Money sent to one earner (a team, or an annotator) in a run."""

    __tablename__ = "payouts"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="positive_amount"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("payout_runs.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    payee_name: Mapped[str] = mapped_column(String(200))
    bank_account: Mapped[str | None] = mapped_column(String(100))
    stripe_account: Mapped[str | None] = mapped_column(String(100))
    transfers: Mapped[list["PayoutTransfer"]] = relationship(
        order_by="PayoutTransfer.id", lazy="selectin", back_populates="payout"
    )

    @property
    def failed_minor(self) -> int:
        return sum(t.amount_minor for t in self.transfers if t.status == TransferStatus.FAILED)

    @property
    def status(self) -> str:
        statuses = {transfer.status for transfer in self.transfers}
        if TransferStatus.PENDING in statuses:
            return TransferStatus.PENDING
        if statuses == {TransferStatus.FAILED}:
            return TransferStatus.FAILED
        return TransferStatus.SENT


class PayoutTransfer(Entity, Base):
    """The part of a payout that one invoice's money pays: one gateway transfer each.

    Stripe groups it with the invoice's charge (`transfer_group`) and, where one
    charge paid that invoice, draws on that charge (`source_transaction`)."""

    __tablename__ = "payout_transfers"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="positive_amount"),)

    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), index=True)
    # The invoice whose settled money it pays out; none for money settled before
    # payouts kept this record.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    transfer_group: Mapped[str | None] = mapped_column(String(64))
    source_charge: Mapped[str | None] = mapped_column(String(200))
    gateway_id: Mapped[str | None] = mapped_column(String(200))  # tr_...
    failure: Mapped[str | None] = mapped_column(String(500))
    payout: Mapped[Payout] = relationship(back_populates="transfers")
