"""What the orders package announces. Later packages subscribe; orders imports none of them."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the claiming unit of work, with `session` and `batch`; a subscriber that
# raises rolls the claim back.
batch_claimed = _signals.signal("batch-claimed")

# Sent inside the unit of work that adds items to an order (a file import), with
# `session`, `order` (its quantity already grown) and `items` (how many were added);
# a subscriber that raises refuses the whole import.
items_added = _signals.signal("items-added")

# Sent when a reader has the drop board's page of batches, with `session`, `actor` and
# `batches`; a subscriber may note on each batch what that reader should know of it.
board_read = _signals.signal("board-read")
