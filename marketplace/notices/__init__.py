"""Notices: what the platform tells people and their systems, written to an outbox in
the unit of work that decides it and delivered afterwards (e-mail by SMTP, signed
webhooks), at least once, deduplicated by id."""
