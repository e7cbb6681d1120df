"""Accounts: how people get in on their own. Sign-up with e-mail verification and, when
the platform asks for it, an admin's approval; sign-in with throttling and lockout;
password resets; a user's own API tokens. Everything that tells someone by e-mail
writes to the outbox in the same unit of work."""
