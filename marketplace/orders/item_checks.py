"""Checks of an imported file's rows: each row against the item schema, each ref against
those seen before (orders/imports.py)."""

from array import array
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from marketplace.orders.item_files import Row, RowProblem

MAX_REF_LENGTH = 2048


class RefDigests:
    """The refs seen, as 8-byte digests in an open-addressing table: at most 16 bytes a
    ref (a set of ints takes about 80), whatever the refs' length. The digest is
    Python's own string hash (SipHash, keyed afresh in each process: nobody can make
    two refs collide on purpose). Two different refs share a digest by chance with a
    probability of about n²/2^65 for n refs (order and file together): 1 in 37 million
    for a million refs, 1 in 370,000 for ten million. Such a ref reads as a duplicate:
    listed as `duplicate_ref` (refused), or, with on_duplicate=skip, left out and
    counted in duplicates_skipped. Comparing the full refs on a digest hit would need
    an index on items (order_id, ref) or memory growing with the refs' length."""

    def __init__(self) -> None:
        self.slots = array("Q", bytes(8 * 1024))
        self.count = 0

    def add(self, ref: str) -> bool:
        """Remember the ref; False if it was there already."""
        if 2 * (self.count + 1) > len(self.slots):
            self._grow()
        return self._put(hash(ref) & 0xFFFF_FFFF_FFFF_FFFF or 1)

    def _put(self, digest: int) -> bool:
        slots, mask = self.slots, len(self.slots) - 1
        at = digest & mask
        while slots[at]:
            if slots[at] == digest:
                return False
            at = (at + 1) & mask
        slots[at] = digest
        self.count += 1
        return True

    def _grow(self) -> None:
        old, self.slots, self.count = self.slots, array("Q", bytes(16 * len(self.slots))), 0
        for digest in old:
            if digest:
                self._put(digest)


class ItemChecker:
    """A row's ref and its fields against the item schema. Valid flat payloads are
    remembered (a data set's images share a few sizes): each is checked once."""

    MEMORY = 4096

    def __init__(self, schema: dict | None) -> None:
        self.schema = schema
        self.validator = Draft202012Validator(schema) if schema is not None else None
        self.valid: set[tuple] = set()

    def problem(self, row: Row) -> RowProblem | None:
        """What is wrong with the row's ref or its fields (the item's payload), if anything."""
        ref, payload = row.ref, row.fields
        if not isinstance(ref, str) or not ref.strip() or len(ref) > MAX_REF_LENGTH:
            return RowProblem(
                "ref", "invalid_ref", f"A ref is text of 1 to {MAX_REF_LENGTH} characters."
            )
        if self.validator is None:
            return None
        key = _flat_key(payload)
        if key is not None and key in self.valid:
            return None
        error = best_match(self.validator.iter_errors(payload))
        if error is None:
            if key is not None and len(self.valid) < self.MEMORY:
                self.valid.add(key)
            return None
        field = "/".join(map(str, error.absolute_path)) or None
        if error.validator == "required" and field is None:
            field = next((name for name in error.validator_value if name not in payload), None)
        return RowProblem(field, "invalid_field", error.message)


def _flat_key(payload: dict[str, Any]) -> tuple | None:
    """A hashable key of a payload of plain values (typed: True is not 1), else None."""
    key = (tuple(payload.items()), tuple(map(type, payload.values())))
    try:
        hash(key)
    except TypeError:
        return None
    return key
