from marshmallow import Schema, fields

from marketplace.web import Price


class ContractOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    order_title = fields.String(attribute="order.title")
    upstream_id = fields.Integer(attribute="upstream_party_id")
    upstream_name = fields.String(attribute="upstream.name")
    downstream_id = fields.Integer(attribute="downstream_party_id")
    downstream_name = fields.String(attribute="downstream.name")
    unit_price = Price(attribute="unit_price_micros")
    currency = fields.String()
    quantity = fields.Integer(metadata={"description": "Items passed down under this contract."})
    created_at = fields.DateTime()
