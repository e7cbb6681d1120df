"""The arithmetic of chains, and the chain as each party may see it.

Every link's line is its items x its unit price, rounded once, half-up. A
link's items are those accepted under it and under every link below it. A
link's margin is its line minus its downstream lines: its subcontracts' lines
and, for the items it works itself, its annotators' pay. So the margins and
the annotators' pay of a chain always add up to the client's line exactly.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from marketplace.db import find
from marketplace.errors import NotFound
from marketplace.identity.actor import Actor
from marketplace.money import line_minor
from marketplace.subcontract.models import Contract
from marketplace.subcontract.service import (
    CONTRACT_ROLES,
    chain_path,
    order_contracts,
)

SHARE_PLACES = Decimal("0.0001")

# annotator user id -> piece rate -> accepted items, for the items one link works itself
OwnWork = dict[int, dict[int, int]]


@dataclass
class LinkLines:
    """One link's money over a set of accepted items."""

    contract: Contract
    items: int = 0  # accepted under this link and every link below it
    line_minor: int = 0
    own_items: int = 0
    annotators: dict[int, tuple[int, int]] = field(default_factory=dict)  # user -> items, amount
    subcontract_lines: dict[int, int] = field(default_factory=dict)  # child contract -> line

    @property
    def annotators_minor(self) -> int:
        return sum(amount for _, amount in self.annotators.values())

    @property
    def downstream_minor(self) -> int:
        return sum(self.subcontract_lines.values()) + self.annotators_minor

    @property
    def margin_minor(self) -> int:
        return self.line_minor - self.downstream_minor


def children_of(contracts: list[Contract]) -> dict[int | None, list[Contract]]:
    """Each contract's subcontracts, by parent id (None: the client's own contracts)."""
    children: dict[int | None, list[Contract]] = defaultdict(list)
    for contract in contracts:
        children[contract.parent_contract_id].append(contract)
    return children


def link_lines(contracts: list[Contract], work: dict[int, OwnWork]) -> dict[int, LinkLines]:
    """The lines and margins of every link of `contracts` (all of one order's chains),
    for the accepted items each link works itself (`work`, by contract id)."""
    unplaced = set(work) - {contract.id for contract in contracts}
    if unplaced:  # billed items that no link would pay for: never let them vanish
        raise ValueError(f"accepted work under no contract of the order: {unplaced}")
    children = children_of(contracts)
    lines: dict[int, LinkLines] = {}

    def visit(contract: Contract) -> LinkLines:
        link = LinkLines(contract)
        for annotator, rates in sorted(work.get(contract.id, {}).items()):
            count = sum(rates.values())
            amount = sum(line_minor(n, rate, contract.currency) for rate, n in rates.items())
            link.annotators[annotator] = (count, amount)
            link.own_items += count
        link.items = link.own_items
        for child in children[contract.id]:
            below = visit(child)
            link.items += below.items
            link.subcontract_lines[child.id] = below.line_minor
        link.line_minor = line_minor(link.items, contract.unit_price_micros, contract.currency)
        lines[contract.id] = link
        return link

    for top in children[None]:
        visit(top)
    return lines


def share(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator to four places, half-up; None when there is nothing to divide."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(SHARE_PLACES, ROUND_HALF_UP)


def chain_tree(session: Session, top: Contract) -> list[Contract]:
    """The client's contract `top` and every link below it, depth first, by id."""
    children = children_of(order_contracts(session, top.order_id))
    tree: list[Contract] = []

    def visit(contract: Contract) -> None:
        tree.append(contract)
        for child in children[contract.id]:
            visit(child)

    visit(top)
    return tree


def pass_through(tree: list[Contract]) -> Decimal | None:
    """What share of the client's line reaches the teams that do the work, by contract:
    the performers' lines (each link's quantity not passed further down, at its price)
    over the client's line."""
    top = tree[0]
    below: dict[int, int] = defaultdict(int)
    for contract in tree[1:]:
        below[contract.parent_contract_id] += contract.quantity
    performers = sum(
        (contract.quantity - below[contract.id]) * contract.unit_price_micros for contract in tree
    )
    return share(performers, top.quantity * top.unit_price_micros)


def chain_view(session: Session, actor: Actor, contract_id: int) -> dict[str, Any]:
    """The whole chain `contract_id` belongs to, as the caller may see it; 404 unless the
    caller's party is a link of it (or an admin asks).

    Every party of the chain sees its links, their parties and quantities, and
    the prices of its own links only: the one it works under (upstream) and the
    ones it passed down. The client also sees the chain's depth and its
    pass-through share, never a middleman's price. Admins see everything.
    """
    contract = find(session, Contract, contract_id)
    tree = chain_tree(session, chain_path(session, contract)[0]) if contract else []
    mine = actor.party_ids(*CONTRACT_ROLES)
    sees_all = actor.is_platform_admin
    is_client = sees_all or bool(tree and tree[0].upstream_party_id in mine)
    parties = {p for link in tree for p in (link.upstream_party_id, link.downstream_party_id)}
    if not tree or not (sees_all or parties & mine):
        raise NotFound(f"No contract {contract_id}.", code="contract_not_found")
    links = [
        {
            "contract": link,
            "unit_price_micros": link.unit_price_micros
            if sees_all or {link.upstream_party_id, link.downstream_party_id} & mine
            else None,
        }
        for link in tree
    ]
    return {
        "order_id": tree[0].order_id,
        "currency": tree[0].currency,
        "depth": max(link.depth for link in tree),
        "pass_through": pass_through(tree) if is_client else None,
        "links": links,
    }
