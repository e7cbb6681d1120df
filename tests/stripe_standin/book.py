"""The stand-in's Stripe account: its objects, its balance, and the events it emits.

Every endpoint is a Book method taking the decoded parameters (and the ids in the path) and
answering the object; a refusal is a `StripeError`. The endpoints themselves live in
connect.py and collection.py.
"""

import copy
import time

from tests.stripe_standin.collection import Collection
from tests.stripe_standin.connect import Connect
from tests.stripe_standin.wire import StripeError, new_id, no_such

API_VERSION = "2024-06-20"

# Method, path pattern, Book method: the whole API the stand-in speaks.
ROUTES = [
    ("POST", r"/v1/accounts", "create_account"),
    ("GET", r"/v1/accounts/(acct_\w+)", "retrieve"),
    ("POST", r"/v1/customers", "create_customer"),
    ("GET", r"/v1/customers/(cus_\w+)", "retrieve"),
    ("POST", r"/v1/payment_intents", "create_payment_intent"),
    ("GET", r"/v1/payment_intents/(pi_\w+)", "retrieve"),
    ("POST", r"/v1/payment_intents/(pi_\w+)/confirm", "confirm_payment_intent"),
    ("GET", r"/v1/charges/(ch_\w+)", "retrieve"),
    ("POST", r"/v1/refunds", "create_refund"),
    ("GET", r"/v1/refunds", "list_refunds"),
    ("GET", r"/v1/refunds/(re_\w+)", "retrieve"),
    ("POST", r"/v1/transfers", "create_transfer"),
    ("GET", r"/v1/transfers", "list_transfers"),
    ("GET", r"/v1/transfers/(tr_\w+)", "retrieve"),
    ("POST", r"/v1/transfers/(tr_\w+)/reversals", "create_reversal"),
    ("GET", r"/v1/transfers/(tr_\w+)/reversals", "list_reversals"),
    ("GET", r"/v1/disputes/(dp_\w+)", "retrieve"),
    ("GET", r"/v1/events/(evt_\w+)", "retrieve"),
    ("GET", r"/v1/balance", "retrieve_balance"),
]


# An id's prefix -> the object's name in "No such ..." answers.
KINDS = {"acct": "account", "cus": "customer", "pi": "payment_intent", "ch": "charge"}
KINDS |= {"re": "refund", "tr": "transfer", "dp": "dispute", "evt": "event"}


class Book(Connect, Collection):
    """Everything one stand-in holds; `reset()` on the server replaces it with a new Book."""

    def __init__(self):
        self.objects: dict[str, dict] = {}
        self.events: list[dict] = []
        self.available: dict[str, int] = {}
        self.funded: dict[str, int] = {}  # charge id -> transfers that named it as their source
        self.failing_destinations: dict[str, tuple[str, str]] = {}  # account -> (code, message)
        # The request being answered, named in the events it causes (as Stripe's `request`).
        self.request = {"id": None, "idempotency_key": None}

    # -- helpers -------------------------------------------------------------------------

    def _new(self, prefix: str, kind: str, **fields) -> dict:
        obj = {"id": new_id(prefix), "object": kind, "created": int(time.time()), "livemode": False}
        obj.update(fields)
        self.objects[obj["id"]] = obj
        return obj

    def _move(self, currency: str, amount: int) -> None:
        """Add to (or, negative, take from) the platform's available balance."""
        self.available[currency] = self.available.get(currency, 0) + amount

    def _find(self, kind: str, object_id: str, param: str = "id") -> dict:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise no_such(kind, object_id, param)
        return obj

    def emit(self, event_type: str, obj: dict) -> dict:
        """Record an event; its `data.object` is a snapshot, as Stripe's events are."""
        event = self._new(
            "evt",
            "event",
            api_version=API_VERSION,
            type=event_type,
            data={"object": copy.deepcopy(obj)},
            request=dict(self.request),
        )
        self.events.append(event)
        return event

    def expand(self, obj: dict, params: dict) -> dict:
        """`expand[]=latest_charge`: an id field answered as the whole object (one level)."""
        answer = copy.deepcopy(obj)
        for index, field in enumerate(params.get("expand") or []):
            value = answer.get(field)
            if not isinstance(value, str) or value not in self.objects:
                raise StripeError(
                    400, f"This property cannot be expanded ({field}).", param=f"expand[{index}]"
                )
            answer[field] = copy.deepcopy(self.objects[value])
        return answer

    def retrieve(self, params: dict, object_id: str) -> dict:
        obj = self.objects.get(object_id)
        if obj is None:
            raise no_such(KINDS[object_id.split("_")[0]], object_id)
        return obj

    def retrieve_balance(self, params: dict) -> dict:
        return {
            "object": "balance",
            "livemode": False,
            "available": [
                {"amount": amount, "currency": currency, "source_types": {"card": amount}}
                for currency, amount in sorted(self.available.items())
            ],
            "pending": [],
        }
