"""What the subcontract package announces. Later packages subscribe; it imports none of them."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the unit of work that passes claimed batches down a chain, with
# `session`, `batch_ids` and `team_id` (the team that now works them); a subscriber
# that raises rolls the subcontract back.
batches_handed_down = _signals.signal("batches-handed-down")

# Sent inside the unit of work that makes a new contract (an award or a subcontract),
# with `session` and `contract`; a subscriber that raises refuses the contract.
contract_made = _signals.signal("contract-made")
