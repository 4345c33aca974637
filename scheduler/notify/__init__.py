"""Notifications: a small port with an apprise adapter and an in-memory double."""
