"""Results out: an order's results are read by its client and platform admins (the whole
order) and by a team owner (its own team's work: Lotus's one accepted box); a team's
reviewers and annotators get 403; whoever does not see the order, 404."""

import json

import pytest

from tests.authorization.matrix import FORBIDDEN, NOT_THE_ORDER, OK, Row, conflict, table

pytestmark = pytest.mark.slow

NOT_FLAT = conflict("format_not_flat")


def readers(want):
    """The client, platform admins and Lotus's owner get `want`; Lotus's other people 403."""
    return table(NOT_THE_ORDER, lotus=FORBIDDEN, admin=want, client=want, owner=want)


def the_accepted_box(matrix, caller, answer) -> str | None:
    """Li's one accepted box, the world's only one, under a pseudonym."""
    rows = [json.loads(line) for line in answer.text.splitlines()]
    found = [(r["submission_id"], r["status"], r["annotator"][:2]) for r in rows]
    return None if found == [(matrix.world.accepted, "accepted", "a-")] else f"rows {found}"


def one_image(matrix, caller, answer) -> str | None:
    images = [image["id"] for image in answer.body["images"]]
    return None if images == [matrix.world.accepted] else f"images {images}"


READS = [
    Row(
        "GET",
        "/orders/{order}/results",
        readers(OK),
        check=the_accepted_box,
    ),
    Row(
        "GET",
        "/orders/{order}/results?format=coco&status=all",
        readers(OK),
        check=one_image,
        label="coco",
    ),
    Row(
        "GET",
        "/orders/{order}/results?format=csv",
        readers(NOT_FLAT),
        label="csv of boxes",
    ),
    # Acme's draft: Acme reads its empty file; Horizon is another client.
    Row(
        "GET",
        "/orders/{rival_draft}/results",
        table(NOT_THE_ORDER, admin=OK, rival_client=OK),
        check=lambda matrix, caller, answer: None if answer.text == "" else answer.text[:200],
        label="rival",
    ),
]
WRITES: list[Row] = []
