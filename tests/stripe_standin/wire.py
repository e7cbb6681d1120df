"""Stripe's wire format: bracket-encoded form bodies in, `{"error": {...}}` out, Stripe-like ids.

Only what the stand-in's endpoints need; the rules follow what the official SDK sends
(`stripe._encode`: nested dicts as `a[b]=`, lists as `a[0]=`, booleans as `true`/`false`).
"""

import re
import secrets
import string
from urllib.parse import parse_qsl

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """An id shaped like Stripe's: a type prefix and 24 random letters and digits."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


class StripeError(Exception):
    """An answer in Stripe's error shape.

    `saved` says whether an idempotency key keeps this answer: Stripe keeps every answer once
    the endpoint has begun to run, but not a refusal of the parameters themselves, so a caller
    can correct a bad request and retry with the same key.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = True,
        **extra,
    ):
        super().__init__(message)
        self.status = status
        self.saved = saved
        self.body = {"type": type, "message": message, **extra}
        if code is not None:
            self.body["code"] = code
        if param is not None:
            self.body["param"] = param

    def answer(self) -> dict:
        return {"error": self.body}


def missing(name: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {name}.", code="parameter_missing", param=name, saved=False
    )


def no_such(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        404 if param == "id" else 400,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def decode_form(body: str) -> dict:
    """`metadata[invoice_id]=5&expand[0]=latest_charge` -> {"metadata": {...}, "expand": [...]}."""
    tree: dict = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        path = re.findall(r"[^\[\]]+|\[\]", raw_key)
        node = tree
        for depth, part in enumerate(path):
            if part == "[]":  # `a[]=x`, an older way to send a list: number it as it comes
                part = str(len(node))
            if depth == len(path) - 1:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(tree)


def _lists(node, name: str = ""):
    """Dicts keyed 0, 1, 2... become lists, as Stripe reads them (metadata keys stay keys)."""
    if not isinstance(node, dict) or name == "metadata":
        return node
    node = {key: _lists(value, key) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


def check_known(params: dict, known: set[str]) -> None:
    """Stripe refuses parameters it does not know, so a misspelt one fails loudly here too."""
    for name in params:
        if name not in known and name != "expand":
            raise StripeError(
                400,
                f"Received unknown parameter: {name}",
                code="parameter_unknown",
                param=name,
                saved=False,
            )


def amount_param(params: dict, name: str = "amount", *, required: bool = True) -> int | None:
    """A positive integer in the currency's minor unit."""
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise missing(name)
        return None
    if not re.fullmatch(r"\d+", str(raw)):
        raise StripeError(
            400,
            f"Invalid integer: {raw}",
            code="parameter_invalid_integer",
            param=name,
            saved=False,
        )
    if int(raw) < 1:
        raise StripeError(
            400,
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param=name,
            saved=False,
        )
    return int(raw)


def currency_param(params: dict) -> str:
    raw = params.get("currency")
    if not raw:
        raise missing("currency")
    if not re.fullmatch(r"[A-Za-z]{3}", raw):
        raise StripeError(400, f"Invalid currency: {raw}", param="currency", saved=False)
    return raw.lower()  # Stripe answers currencies in lower case whatever was sent


def bool_param(params: dict, name: str) -> bool:
    raw = params.get(name, "false")
    if raw not in ("true", "false"):
        raise StripeError(400, f"Invalid boolean: {raw}", param=name, saved=False)
    return raw == "true"


def metadata_param(params: dict) -> dict[str, str]:
    """Stripe keeps metadata as strings; an empty value unsets a key, so it is left out here."""
    raw = params.get("metadata") or {}
    if not isinstance(raw, dict):
        raise StripeError(400, "Invalid metadata: must be a hash", param="metadata", saved=False)
    return {key: value for key, value in raw.items() if value != ""}
