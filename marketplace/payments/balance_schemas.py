"""The client's balance, reservations, top-ups and credit lines, as the API shows them."""

from marshmallow import Schema, fields, validate

from marketplace.db import MAX_ID
from marketplace.payments.schemas import CardPaymentIn
from marketplace.web import Amount, Currency, DecimalString, PageArgs, not_blank


class ClientArgs(Schema):
    client_id = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Needed for platform admins, or if you act for several."},
    )


class HistoryArgs(ClientArgs, PageArgs):
    currency = Currency(required=True, metadata={"example": "CNY"})


class OrderReservationOut(Schema):
    order_id = fields.Integer()
    currency = fields.String()
    title = fields.String()
    funding = fields.String()
    held = Amount(attribute="held_minor", metadata={"description": "Reserved now."})
    reserved = Amount(attribute="reserved_minor", metadata={"description": "Ever reserved."})
    posted = Amount(
        attribute="posted_minor", metadata={"description": "Paid to statements of accepted work."}
    )
    voided = Amount(attribute="voided_minor", metadata={"description": "Given back to you."})
    items_posted = fields.Integer()


class ClientBalanceOut(Schema):
    currency = fields.String()
    available = Amount(
        attribute="available_minor",
        metadata={"description": "Your balance: not reserved, yours to fund orders or take back."},
    )
    reserved = Amount(
        attribute="reserved_minor",
        metadata={"description": "Held for the released work of your funded orders."},
    )
    credit_line = Amount(attribute="credit_line_minor", allow_none=True)
    credit_used = Amount(
        attribute="credit_used_minor",
        metadata={"description": "What your invoiced orders' released work and debts use of it."},
    )
    orders = fields.List(fields.Nested(OrderReservationOut))


class MovementOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String(
        metadata={
            "description": "payment_received, reservation_reserve, reservation_post, "
            "reservation_void, or what applied or returned your money"
        }
    )
    memo = fields.String()
    account = fields.String(metadata={"description": "balance or reserved"})
    change = Amount(attribute="change_minor", metadata={"description": "+ in, - out."})
    currency = fields.String()


class ClientAmountIn(Schema):
    """An amount of the client's money: to add to its balance, or to take back."""

    client_id = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Needed only if you act for several clients."},
    )
    amount = DecimalString(required=True, metadata={"type": "string", "example": "500.00"})
    currency = Currency(required=True, metadata={"example": "CNY"})


class TopUpIn(CardPaymentIn, ClientAmountIn):
    attempt = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[A-Za-z0-9_-]+$")],
        metadata={"description": "Your id for this top-up: the same id never charges twice."},
    )


class CreditLineIn(Schema):
    limit = DecimalString(required=True, metadata={"type": "string", "example": "50000.00"})
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), not_blank])


class CreditLineOut(Schema):
    client_id = fields.Integer(attribute="party_id")
    currency = fields.String()
    limit = Amount(attribute="limit_minor")
    reason = fields.String()
    created_at = fields.DateTime()


class RefundPaidIn(Schema):
    """Paying a request sends its card money back to the cards it came from through Stripe
    (the latest card payment first), and the rest by the bank transfer you sent."""

    reference = fields.String(
        validate=[validate.Length(min=1, max=200), not_blank],
        metadata={
            "description": "The bank transfer you sent for the part card refunds do not "
            "cover. Required when part of the request goes back by bank transfer (422 names "
            "the amount, `by_bank_transfer` in the details); left out when the cards take it "
            "all (409 `no_bank_transfer_needed` otherwise)."
        },
    )


class RefundRefusedIn(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), not_blank])


class RefundOut(Schema):
    id = fields.Integer()
    client_id = fields.Integer(attribute="client_party_id")
    currency = fields.String()
    amount = Amount(attribute="amount_minor")
    status = fields.String(metadata={"description": "requested, refunded or refused"})
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    reference = fields.String(
        allow_none=True,
        metadata={
            "description": "The bank transfer that sent its bank part back; none when it all "
            "went back to cards."
        },
    )
    note = fields.String(allow_none=True, metadata={"description": "Why it was refused."})
    sent_by_card = Amount(
        attribute="sent_by_card_minor",
        metadata={"description": "What went back to the cards it came from, through Stripe."},
    )
    sent_by_bank_transfer = Amount(
        attribute="sent_by_bank_transfer_minor",
        metadata={"description": "What went back by the bank transfer an admin recorded."},
    )
