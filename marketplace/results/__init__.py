"""Results out: the accepted work of an order, streamed to its client (and to each team,
its own work) as JSON Lines, CSV or COCO; while the client is on credit hold, the items of
its overdue invoices wait for the money."""
