"""Webhooks out: endpoints subscribe to account events and receive them signed."""
