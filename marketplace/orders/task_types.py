"""Task types: the shape of a result and its rules, held as data, and the checks they make.

The platform's own types are defined here and written to the database the
first time an order uses one; a client adds its own by posting its schema.
"""

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, SchemaError
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import upsert
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.identity.actor import Actor
from marketplace.identity.models import Role
from marketplace.orders.models import TaskType
from marketplace.orders.result_rules import broken_rule, check_rules_wellformed


def _rule(name: str, message: str, require: dict, **where: Any) -> dict[str, Any]:
    return {"name": name, "message": message, **where, "require": require}


def _within(edge: tuple[str, str], limit: str) -> dict:
    return {"<=": [{"+": [{"var": f"it.{edge[0]}"}, {"var": f"it.{edge[1]}"}]}, {"var": limit}]}


_PIXELS = {"type": "integer", "minimum": 1}
# Items of orders posted before the image size was asked for carry none: their boxes can
# only be checked against the schema (every newer item has a size: item_schema).
_KNOWN_SIZE = {"!=": [{"var": "item.width"}, None]}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_FROM_ZERO = {"type": "number", "minimum": 0}
_ERROR_TYPES = {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 20}

BUILT_IN: dict[str, dict[str, Any]] = {
    "bbox_2d": {
        "name": "2D bounding boxes",
        "description": "Boxes around the objects of an image; each item's payload gives the "
        "image's width and height in pixels.",
        "item_schema": {
            "type": "object",
            "required": ["width", "height"],
            "properties": {
                "width": _PIXELS,
                "height": _PIXELS,
            },
        },
        "result_schema": {
            "type": "object",
            "required": ["boxes"],
            "additionalProperties": False,
            "properties": {
                "boxes": {
                    "type": "array",
                    "maxItems": 1000,
                    "items": {
                        "type": "object",
                        "required": ["x", "y", "w", "h"],
                        "additionalProperties": False,
                        "properties": {
                            "label": {"type": "string", "maxLength": 100},
                            "x": _FROM_ZERO,
                            "y": _FROM_ZERO,
                            "w": _POSITIVE,
                            "h": _POSITIVE,
                        },
                    },
                }
            },
        },
        "options_schema": None,
        "rules": [
            _rule(
                "box_inside_image_width",
                "A box must end inside the image: x + w <= the image's width.",
                _within(("x", "w"), "item.width"),
                each="result.boxes",
                when=_KNOWN_SIZE,
            ),
            _rule(
                "box_inside_image_height",
                "A box must end inside the image: y + h <= the image's height.",
                _within(("y", "h"), "item.height"),
                each="result.boxes",
                when=_KNOWN_SIZE,
            ),
        ],
        "reason_codes": ["box_off_target", "object_missed", "wrong_label", "other"],
    },
    "rating_1_5": {
        "name": "1-5 rating of a model answer",
        "description": "A rating from 1 (unusable) to 5 (excellent); a rating of 2 or lower "
        "names at least one error type from the order's list.",
        "item_schema": None,
        "result_schema": {
            "type": "object",
            "required": ["rating"],
            "additionalProperties": False,
            "properties": {
                "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                "error_types": _ERROR_TYPES,
                "comment": {"type": "string", "maxLength": 2000},
            },
        },
        "options_schema": {
            "type": "object",
            "required": ["error_types"],
            "additionalProperties": False,
            "properties": {"error_types": _ERROR_TYPES | {"minItems": 1, "uniqueItems": True}},
        },
        "rules": [
            _rule(
                "error_type_required_for_low_rating",
                "A rating of 2 or lower names at least one error type.",
                {">=": [{"count": {"var": ["result.error_types", []]}}, 1]},
                when={"<=": [{"var": "result.rating"}, 2]},
            ),
            _rule(
                "error_type_from_order_list",
                "Error types come from the order's list.",
                {"in": [{"var": "it"}, {"var": ["order.error_types", []]}]},
                each="result.error_types",
            ),
        ],
        "reason_codes": ["wrong_rating", "error_type_missing", "error_type_wrong", "other"],
    },
    "audio_score_0_2": {
        "name": "Audio clip score 0/1/2",
        "description": "0: unusable, 1: usable with faults, 2: clean.",
        "item_schema": None,
        "result_schema": {
            "type": "object",
            "required": ["score"],
            "additionalProperties": False,
            "properties": {"score": {"enum": [0, 1, 2]}},
        },
        "options_schema": None,
        "rules": [],
        "reason_codes": ["wrong_score", "other"],
    },
}


def _built_in(key: str) -> TaskType | None:
    definition = BUILT_IN.get(key)
    return None if definition is None else TaskType(key=key, client_party_id=None, **definition)


def list_task_types(session: Session) -> list[TaskType]:
    """Every task type, the platform's first: definitions are public, so a team reads the
    result format of any work before it takes it."""
    stored = {t.key: t for t in session.scalars(select(TaskType).order_by(TaskType.id))}
    built_in = [stored.pop(key, None) or _built_in(key) for key in BUILT_IN]
    return built_in + list(stored.values())


def get_task_type(session: Session, key: str) -> TaskType:
    found = session.scalar(select(TaskType).where(TaskType.key == key)) or _built_in(key)
    if found is None:
        raise NotFound(f"No task type {key!r}.", code="task_type_not_found")
    return found


def stored_task_type(session: Session, key: str) -> TaskType | None:
    """The task type of that key as a row others may refer to: a platform type is written
    on its first use (never overwritten); None if there is no such type."""
    if key in BUILT_IN:
        session.execute(
            upsert(session, TaskType)
            .values(key=key, client_party_id=None, **BUILT_IN[key])
            .on_conflict_do_nothing(index_elements=["key"])
        )
    return session.scalar(select(TaskType).where(TaskType.key == key))


def task_type_for_order(session: Session, key: str, client_id: int) -> TaskType:
    """The task type a client's new order uses, stored (422 `unknown_task_type` for a type
    that is neither the platform's nor the client's own)."""
    found = stored_task_type(session, key)
    if found is None or found.client_party_id not in (None, client_id):
        raise Invalid(
            f"No task type {key!r} you may use.",
            code="unknown_task_type",
            known=sorted(BUILT_IN),
        )
    return found


def create_task_type(session: Session, actor: Actor, data: dict[str, Any]) -> TaskType:
    """A client's own task type, for its own orders; its schemas and rules are checked
    before it is stored (422), and a key is taken once (409 `task_type_exists`)."""
    actor.require(Role.CLIENT_ADMIN)
    client_id = actor.acting_for(Role.CLIENT_ADMIN, data.pop("client_id", None), "client")
    for field in ("result_schema", "item_schema", "options_schema"):
        if data.get(field) is not None:
            try:
                Draft202012Validator.check_schema(data[field])
            except SchemaError as exc:
                raise Invalid(
                    f"{field} is not a JSON Schema: {exc.message}",
                    code="invalid_schema",
                    field=field,
                ) from exc
            _check_references(data[field], field)
    check_rules_wellformed(data["rules"])
    taken = data["key"] in BUILT_IN or session.scalar(
        select(TaskType.id).where(TaskType.key == data["key"])
    )
    if taken:
        raise Conflict(f"Task type {data['key']!r} exists.", code="task_type_exists")
    task_type = TaskType(client_party_id=client_id, **data)
    session.add(task_type)
    session.flush()
    return task_type


def _check_references(schema: dict, field: str) -> None:
    """Every `$ref` of the schema leads somewhere inside it (422 `invalid_schema`): we
    never fetch a schema from the network, and a dangling one would fail every check."""
    resolver = Registry().resolver_with_root(DRAFT202012.create_resource(schema))
    for reference in _references(schema):
        try:
            resolver.lookup(reference)
        except Unresolvable as exc:
            raise Invalid(
                f"{field}: $ref {reference!r} leads nowhere inside the schema.",
                code="invalid_schema",
                field=field,
            ) from exc


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def check_payload(schema: dict | None, value: Any, *, code: str, what: str, **details: Any) -> None:
    """422 `code` naming the place where `value` breaks `schema` (none: anything goes)."""
    if schema is None:
        return
    problem = best_match(Draft202012Validator(schema).iter_errors(value))
    if problem is not None:
        raise Invalid(
            f"{what} {problem.message}",
            code=code,
            path="/".join(map(str, problem.absolute_path)),
            keyword=problem.validator,
            **details,
        )


def check_order_terms(task_type: TaskType, options: dict | None, items: list[dict]) -> None:
    """The order's task options and every item's payload fit the task type (422)."""
    if task_type.options_schema is None and options:
        raise Invalid(
            f"Task type {task_type.key!r} takes no task options.", code="invalid_task_options"
        )
    check_payload(
        task_type.options_schema, options or {}, code="invalid_task_options", what="Task options:"
    )
    if task_type.item_schema is not None:
        for index, item in enumerate(items):
            check_payload(
                task_type.item_schema,
                item.get("payload") or {},
                code="invalid_item_payload",
                what=f"Item {index}'s payload:",
                item_index=index,
            )


def check_result(
    task_type: TaskType, result: dict, *, item: dict | None, options: dict | None
) -> None:
    """A result keeps its task type's schema and rules, or 422 `result_breaks_rule` names
    the rule (`result_schema` for the shape) and where it broke."""
    check_payload(
        task_type.result_schema,
        result,
        code="result_breaks_rule",
        what="The result breaks result_schema:",
        rule="result_schema",
    )
    broken = broken_rule(
        task_type.rules, {"result": result, "item": item or {}, "order": options or {}}
    )
    if broken is not None:
        rule, index = broken
        raise Invalid(
            rule.get("message") or f"The result breaks rule {rule['name']}.",
            code="result_breaks_rule",
            rule=rule["name"],
            **({} if index is None else {"index": index}),
        )
