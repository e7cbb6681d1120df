from marshmallow import Schema, fields, validate

from marketplace.orders.schemas import ClaimIn, TeamArgs, chain_caps
from marketplace.web import Currency, Price, not_blank

MAX_QUANTITY = 10_000_000


def _quantity(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY), **kwargs)


class FlaggedOut(Schema):
    """A deal as a team sees it, against its own cost floor."""

    cost_floor = Price(
        attribute="cost_floor_micros",
        allow_none=True,
        metadata={"description": "Your team's floor for this task type and currency, if set."},
    )
    below_cost_floor = fields.Boolean(
        metadata={"description": "The price is below your team's cost floor."}
    )


class ContractOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    order_title = fields.String(attribute="order.title")
    task_type = fields.String(attribute="order.task_type")
    instructions = fields.String(
        attribute="order.instructions",
        metadata={"description": "The client's instructions, for every link of the chain."},
    )
    parent_contract_id = fields.Integer(
        allow_none=True, metadata={"description": "None for the client's own contract."}
    )
    depth = fields.Integer(metadata={"description": "1 for the client's contract, 2 below it, …"})
    source = fields.String(metadata={"description": "claim, award or offer"})
    upstream_id = fields.Integer(attribute="upstream_party_id")
    upstream_name = fields.String(attribute="upstream.name")
    downstream_id = fields.Integer(attribute="downstream_party_id")
    downstream_name = fields.String(attribute="downstream.name")
    unit_price = Price(attribute="unit_price_micros")
    currency = fields.String()
    quantity = fields.Integer(
        metadata={"description": "Items passed down under this contract, worked or passed on."}
    )
    created_at = fields.DateTime()


class FlaggedContractOut(ContractOut, FlaggedOut):
    pass


class ChainLinkOut(Schema):
    id = fields.Integer(attribute="contract.id")
    parent_contract_id = fields.Integer(attribute="contract.parent_contract_id", allow_none=True)
    depth = fields.Integer(attribute="contract.depth")
    upstream_id = fields.Integer(attribute="contract.upstream_party_id")
    upstream_name = fields.String(attribute="contract.upstream.name")
    downstream_id = fields.Integer(attribute="contract.downstream_party_id")
    downstream_name = fields.String(attribute="contract.downstream.name")
    quantity = fields.Integer(attribute="contract.quantity")
    unit_price = Price(
        attribute="unit_price_micros",
        allow_none=True,
        metadata={"description": "Shown only on your own links (the one above you, yours below)."},
    )


class ChainOut(Schema):
    order_id = fields.Integer()
    currency = fields.String()
    depth = fields.Integer(metadata={"description": "Links from the client to the deepest team."})
    pass_through = fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={
            "description": "For the client: the performers' lines over its own line, "
            "by contract (quantity not passed further down x price), e.g. 0.5500."
        },
    )
    links = fields.List(fields.Nested(ChainLinkOut))


class OfferIn(Schema):
    to_team_id = fields.Integer(
        strict=True,
        load_default=None,
        metadata={"description": "The team the offer is made to; none: open to every team's bid."},
    )
    unit_price = Price(required=True, attribute="unit_price_micros")
    quantity = _quantity(
        load_default=None, metadata={"description": "Items to pass down; with batches, theirs."}
    )
    batch_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1)),
        load_default=list,
        validate=validate.Length(max=1000),
        metadata={"description": "Claimed batches of yours not started yet, to pass down too."},
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class OfferOut(FlaggedOut):
    id = fields.Integer()
    order_id = fields.Integer()
    order_title = fields.String(attribute="order.title")
    task_type = fields.String(attribute="order.task_type")
    contract_id = fields.Integer(metadata={"description": "The offering team's contract."})
    depth = fields.Integer(
        attribute="contract.depth",
        metadata={"description": "The depth of the offering contract; a taker's is one more."},
    )
    from_team_id = fields.Integer(attribute="from_party_id")
    from_team_name = fields.String(attribute="from_party.name")
    to_team_id = fields.Integer(attribute="to_party_id", allow_none=True)
    unit_price = Price(attribute="unit_price_micros")
    currency = fields.String()
    quantity = fields.Integer()
    open_quantity = fields.Integer()
    batch_ids = fields.List(fields.Integer())
    note = fields.String()
    status = fields.String(metadata={"description": "open, taken or withdrawn"})
    created_at = fields.DateTime()


class OfferArgs(TeamArgs):
    status = fields.String(
        load_default=None, validate=validate.OneOf(["open", "taken", "withdrawn"])
    )


class AcceptedOut(Schema):
    contract = fields.Nested(FlaggedContractOut)
    offer = fields.Nested(OfferOut)


class BidIn(ClaimIn):
    unit_price = Price(required=True, attribute="unit_price_micros")
    quantity = _quantity(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class BidOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    offer_id = fields.Integer(allow_none=True)
    team_id = fields.Integer(attribute="team_party_id")
    team_name = fields.String(attribute="team.name")
    unit_price = Price(attribute="unit_price_micros")
    currency = fields.String()
    quantity = fields.Integer()
    note = fields.String()
    status = fields.String(metadata={"description": "open, awarded or withdrawn"})
    awarded_quantity = fields.Integer(allow_none=True)
    contract_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class AwardIn(Schema):
    quantity = _quantity(
        load_default=None, metadata={"description": "Award part of the bid; all of it if absent."}
    )


class TenderOut(Schema):
    id = fields.Integer()
    client_name = fields.String(attribute="client.name")
    title = fields.String()
    task_type = fields.String()
    instructions = fields.String()
    currency = fields.String()
    quantity = fields.Integer()
    payment_terms_days = fields.Integer()
    chain_caps = fields.Function(chain_caps)


class CostFloorIn(ClaimIn):
    task_type = fields.String(required=True, validate=[validate.Length(min=1, max=64), not_blank])
    currency = Currency(required=True)
    unit_price = Price(required=True, attribute="unit_price_micros")


class CostFloorOut(Schema):
    id = fields.Integer()
    team_id = fields.Integer(attribute="team_party_id")
    task_type = fields.String()
    currency = fields.String()
    unit_price = Price(attribute="unit_price_micros")
    created_at = fields.DateTime()
