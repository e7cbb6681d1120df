"""Receivables: what clients owe and for how long, and the schedule that chases it.

Above `payments` in the layers: it reads invoices and payments, writes its own
collection records (dunning steps taken, promises, disputes, notes, e-mails) and
acts through the lower packages' services (credit notes for write-offs, identity
for credit holds and the audit log).
"""
