"""The rule language of task types: checks of a result against its item and its order.

A rule is data, a JSON object::

    {"name": "box_inside_image_width",
     "message": "A box must end inside the image's width.",
     "each": "result.boxes",
     "when": <expression>,
     "require": <expression>}

`each` (optional) applies the rule to every element of a list, bound as `it`;
`when` (optional) limits it to the results it speaks of; `require` must hold.
Expressions take JSON Logic's form, `{"operator": [arguments]}`, and read the
context with `{"var": "path"}` (or `{"var": ["path", default]}`): `result`,
`item` (the item's payload), `order` (the order's task options) and `it`.
JSON Logic's own libraries cannot reach the outer context from inside a loop
(a box's right edge against the image's width), hence this small evaluator.
"""

import operator
from collections.abc import Callable
from math import prod
from typing import Any

from jsonschema import Draft202012Validator

from marketplace.errors import Invalid

MAX_DEPTH = 16
MAX_RULES = 50
NAME_PATTERN = "^[a-z][a-z0-9_]{0,63}$"


def _numbers(combine: Callable[..., Any]) -> Callable[..., Any]:
    """Arithmetic on numbers only: `*` of a text and a number would build the text that
    many times over (a rule must not be able to fill the server's memory)."""

    def checked(*values: Any) -> Any:
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise TypeError("arithmetic on numbers only")
        return combine(*values)

    return checked


OPERATORS: dict[str, Callable[..., Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": _numbers(lambda *values: sum(values)),
    "-": _numbers(operator.sub),
    "*": _numbers(lambda *values: prod(values)),
    "!": operator.not_,
    "in": lambda value, container: value in container,
    "count": len,
}
SHORT_CIRCUIT = {"and": all, "or": any}

_EXPRESSION = {
    "anyOf": [
        {"type": ["number", "string", "boolean", "null"]},
        {"type": "array", "items": {"$ref": "#/$defs/expression"}, "maxItems": 100},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": {"enum": ["var", *OPERATORS, *SHORT_CIRCUIT]},
            "additionalProperties": {"$ref": "#/$defs/expression"},
        },
    ]
}
RULES_SCHEMA = {
    "$defs": {"expression": _EXPRESSION},
    "type": "array",
    "maxItems": MAX_RULES,
    "items": {
        "type": "object",
        "required": ["name", "require"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "message": {"type": "string", "maxLength": 300},
            "each": {"type": "string", "minLength": 1, "maxLength": 200},
            "when": {"$ref": "#/$defs/expression"},
            "require": {"$ref": "#/$defs/expression"},
        },
    },
}


def check_rules_wellformed(rules: list[dict[str, Any]]) -> None:
    """422 `invalid_rules` unless `rules` are rules of this language, not nested too deep."""
    problem = next(Draft202012Validator(RULES_SCHEMA).iter_errors(rules), None)
    if problem is None and max(map(_depth, rules), default=0) > MAX_DEPTH:
        raise Invalid(f"Rules nest at most {MAX_DEPTH} deep.", code="invalid_rules")
    if problem is not None:
        raise Invalid(
            f"These are not rules: {problem.message}",
            code="invalid_rules",
            path="/".join(map(str, problem.absolute_path)),
        )
    names = [rule["name"] for rule in rules]
    if len(set(names)) != len(names):
        raise Invalid("Each rule needs a name of its own.", code="invalid_rules")


def broken_rule(
    rules: list[dict[str, Any]], context: dict[str, Any]
) -> tuple[dict[str, Any], int | None] | None:
    """The first rule the context breaks, with the index of the element it broke it at
    (for an `each` rule), or None if every rule holds.

    An expression that cannot be evaluated on this result (a comparison of a
    number with text, a missing list) breaks its rule: nothing invalid passes.
    """
    for rule in rules:
        if "each" in rule:
            elements = value_at(context, rule["each"])
            if not isinstance(elements, list):
                continue
            for index, element in enumerate(elements):
                if not _holds(rule, context | {"it": element}):
                    return rule, index
        elif not _holds(rule, context):
            return rule, None
    return None


def _holds(rule: dict[str, Any], context: dict[str, Any]) -> bool:
    try:
        if "when" in rule and not _evaluate(rule["when"], context):
            return True
        return bool(_evaluate(rule["require"], context))
    except (TypeError, ValueError, ArithmeticError):
        return False


def _evaluate(expression: Any, context: dict[str, Any]) -> Any:
    if isinstance(expression, list):
        return [_evaluate(e, context) for e in expression]
    if not isinstance(expression, dict):
        return expression
    [(op, args)] = expression.items()
    if op == "var":
        path, default = [*args, None][:2] if isinstance(args, list) else (args, None)
        found = value_at(context, path)
        return default if found is None else found
    args = args if isinstance(args, list) else [args]
    if op in SHORT_CIRCUIT:
        return SHORT_CIRCUIT[op](_evaluate(arg, context) for arg in args)
    return OPERATORS[op](*(_evaluate(arg, context) for arg in args))


def value_at(context: Any, path: Any) -> Any:
    """What a dotted path (`result.boxes.2.w`) reads in a result, or None where nothing is."""
    value: Any = context
    for key in str(path).split("."):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0
