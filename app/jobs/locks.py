"""Names of the procrastinate locks that keep jobs in line, in one place.

``lock``: jobs sharing one never run at the same time. ``queueing_lock``: at most one job
with it waits in the queue (a second deferral is refused, the waiting one serves both).
"""

from __future__ import annotations

import uuid

# Passes over the outgoing-webhook attempts never overlap (a batch is read, sent, then
# recorded: two passes at once would send it twice); one waiting pass sees every row.
DELIVERY_LOCK = "webhooks-out"
DELIVERY_QUEUEING_LOCK = "deliver_webhooks"
# A pass scheduled for a retry due soon has a queueing lock of its own: while it waits, the
# immediate pass that a new event queues must not find the lock taken.
DELIVERY_RETRY_QUEUEING_LOCK = "deliver_webhooks_retry"
# One rescore of everything at a time, and one waiting: it always reads the active ICP.
RESCORE_LOCK = "rescore-all"


def connection_lock(connection_id: uuid.UUID) -> str:
    """The lock that keeps one connection's syncs, write-backs and inbox processing in line."""
    return f"connection:{connection_id}"


def flush_queueing_lock(connection_id: uuid.UUID) -> str:
    """At most one waiting write-back flush per connection: it writes every due row."""
    return f"flush:{connection_id}"


def inbox_queueing_lock(connection_id: uuid.UUID) -> str:
    """At most one waiting processing job per connection: it reads the whole inbox."""
    return f"inbox:{connection_id}"


# A baseline snapshot and a health check never run at once (both may take the baseline).
HEALTH_LOCK = "icp-health"
