"""Fair pay: the client tops up work its price left below the reference wage, as Prolific
asks of its researchers (FAIR_PAY_TOP_UPS; docs/hourly-pay.md, "Top-ups").

Once an order's pace is measured (the median seconds of at least 30 accepted items), an
item that paid its annotator less than the reference wage for that median time is topped
up on the statement or invoice that bills it: the median's share of an hour at the wage,
less her rate for the item. The top-up is a line of its own, with no fee on it, passed
down the chain untouched to the annotators who did those items (a share each), and
settled as any earning is. Work that turns out faster than estimated is never paid less:
a top-up only adds.
"""

from collections import defaultdict
from fractions import Fraction

from sqlalchemy.orm import Session

from marketplace.money import MICRO_EXPONENT, divide_half_up, exponent, format_minor
from marketplace.orders.models import Order
from marketplace.payments.models import Invoice, InvoiceLine, InvoiceShare, LineKind, ShareRole
from marketplace.payments.work import accepted_work
from marketplace.subcontract.models import Contract
from marketplace.wages.service import HOUR, wage_in_force
from marketplace.workers.hours import order_pace


def top_up_line(
    session: Session, order: Order, invoice: Invoice, contracts: list[Contract]
) -> tuple[InvoiceLine | None, list[InvoiceShare]]:
    """The invoice's top-up line and its annotators' shares; none while the order's pace is
    not measured, no reference wage is in force, or every item paid at least the wage."""
    pace = order_pace(session, order)
    wage = wage_in_force(session, order.currency)
    if pace.basis != "measured" or not pace.seconds or wage is None:
        return None, []
    shift = 10 ** (MICRO_EXPONENT - exponent(order.currency))
    # The median's share of an hour at the wage, in micros an item (exact, a fraction).
    floor = Fraction(wage.amount_minor * shift) * Fraction(pace.seconds) / HOUR
    performers = {contract.id: contract.downstream_party_id for contract in contracts}
    gaps: dict[tuple[int, int, int], list[Fraction]] = defaultdict(lambda: [0, Fraction(0)])
    for contract_id, annotators in accepted_work(session, invoice=invoice).items():
        for annotator, rates in annotators.items():
            for rate, count in rates.items():
                gap = floor - (rate or 0)
                if gap > 0:
                    owed = gaps[(performers[contract_id], annotator, contract_id)]
                    owed[0] += count
                    owed[1] += count * gap
    shares = [
        InvoiceShare(
            party_id=team,
            user_id=annotator,
            contract_id=contract_id,
            role=ShareRole.TOP_UP,
            items=count,
            # Rounded once, half-up, per annotator and link.
            amount_minor=divide_half_up((micros / shift).numerator, (micros / shift).denominator),
        )
        for (team, annotator, contract_id), (count, micros) in sorted(gaps.items())
    ]
    shares = [share for share in shares if share.amount_minor > 0]
    if not shares:
        return None, []
    items = sum(share.items for share in shares)
    line = InvoiceLine(
        kind=LineKind.TOP_UP,
        description=(
            f"Fair-pay top-up: {items} items paid below the reference wage of "
            f"{format_minor(wage.amount_minor, order.currency)} {order.currency} an hour "
            f"({wage.region}) at the order's median of {pace.seconds:g} s an item"
        )[:300],
        quantity=items,
        amount_minor=sum(share.amount_minor for share in shares),
    )
    for share in shares:
        share.line = line
    return line, shares
