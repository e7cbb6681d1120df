"""What the orders package announces. Later packages subscribe; orders imports none of them."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the claiming unit of work, with `session` and `batch`; a subscriber that
# raises rolls the claim back.
batch_claimed = _signals.signal("batch-claimed")
