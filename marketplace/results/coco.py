"""Boxes as one COCO document, written as it is read: the images, then their boxes as
annotations, then the categories met on the way (or listed by the task type).

The images and the annotations are two passes over the same rows in one snapshot, so
memory holds a chunk of rows and the labels, never the order.
"""

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from marketplace.results.exports import (
    Export,
    decided_at,
    json_string,
    parsed,
    rows,
)

# A box without a label is in this category.
UNLABELED = ""


def _images(chunk: list[Any], export: Export) -> str:
    """The chunk's images; beyond COCO (its readers pass it over), the decision, for audits."""
    name = export.pseudonym
    found = []
    for id_, batch, status, at, code, reason, user, ref, payload in chunk:
        size = parsed(payload) or {}
        found.append(
            f'{{"id":{id_},"file_name":{json_string(ref)},'
            f'"width":{json.dumps(size.get("width"))},"height":{json.dumps(size.get("height"))},'
            f'"piecework":{{"batch_id":{batch},"status":"{status}",'
            f'"decided_at":{json_string(decided_at(at))},"reason_code":{json_string(code)},'
            f'"reason":{json_string(reason)},"annotator":"{name(user)}"}}}}'
        )
    return ",".join(found)


def _annotations(chunk: list[Any], categories: dict[str, int], numbers: Iterator[int]) -> str:
    """The boxes of the chunk's results, each a category (a new label takes the next id)."""
    found = []
    for id_, result in chunk:
        for box in (parsed(result) or {}).get("boxes", []):
            label = box.get("label", UNLABELED)
            category = categories.setdefault(label, len(categories) + 1)
            # Numbers, by the result schema: str() writes them as JSON does.
            x, y, w, h = box["x"], box["y"], box["w"], box["h"]
            found.append(
                f'{{"id":{next(numbers)},"image_id":{id_},"category_id":{category},'
                f'"bbox":[{x},{y},{w},{h}],"area":{w * h},"iscrowd":0}}'
            )
    return ",".join(found)


def _joined(parts: Iterator[str]) -> Iterator[str]:
    """The parts of a JSON array, each after a comma but the first."""
    first = True
    for part in parts:
        if part:
            yield part if first else "," + part
            first = False


def coco_chunks(connection: Connection, export: Export) -> Iterator[str]:
    """The COCO document: `images` (id: the submission's; file_name: the item's ref),
    `annotations` (bbox [x, y, width, height], area, iscrowd 0) and `categories` (ids from
    1, the task type's labels first, then each new label as it is met)."""
    categories = {label: number for number, label in enumerate(export.labels, start=1)}
    yield '{"images":['
    image_columns = [c for c in export.query.selected_columns if c.name != "result"]
    images = export.query.with_only_columns(*image_columns)
    yield from _joined(_images(chunk, export) for chunk in rows(connection, images))
    yield '],"annotations":['
    numbers = iter(range(1, 2**63))
    yield from _joined(
        _annotations(chunk, categories, numbers) for chunk in rows(connection, export.results_query)
    )
    yield '],"categories":'
    yield json.dumps(
        [{"id": number, "name": label} for label, number in categories.items()],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    yield "}"
