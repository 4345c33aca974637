"""Dispatch: due reminders leave the outbox under a lease, go through the notifier, and are marked."""
