"""Every job's registered name: what services defer, what the jobs table stores.

Names are explicit, so moving a task's code never orphans a job already queued; each task
also answers to the dotted path it was registered under before names were given
(``LEGACY_NAMES``), so jobs queued by an earlier release still run after an upgrade.
"""

from __future__ import annotations

from enum import StrEnum


class TaskName(StrEnum):
    """The registered name of each task."""

    RESCORE_ALL_ACCOUNTS = "accounts.rescore_all"
    SYNC_CONNECTION = "sync.run"
    SCHEDULE_INCREMENTAL_SYNCS = "sync.schedule_incremental"
    FLUSH_WRITEBACKS = "writeback.flush"
    FLUSH_DUE_WRITEBACKS = "writeback.flush_due"
    PROCESS_INBOX = "inbox.process"
    SWEEP_INBOX = "inbox.sweep"
    PRUNE_INBOX = "inbox.prune"
    DELIVER_WEBHOOKS = "subscriptions.deliver"
    DELIVER_DUE_WEBHOOKS = "subscriptions.deliver_due"
    PRUNE_WEBHOOK_EVENTS = "subscriptions.prune"
    RETRY_STALLED_JOBS = "jobs.retry_stalled"
    REMOVE_OLD_JOBS = "jobs.remove_old"
    SNAPSHOT_ICP_BASELINE = "health.snapshot_baseline"
    CHECK_ICP_HEALTH = "health.check"


# The names procrastinate gave these tasks from their module path, before they had names (tasks
# born with a name have none).
LEGACY_NAMES: dict[TaskName, str] = {
    TaskName.RESCORE_ALL_ACCOUNTS: "app.accounts.tasks.rescore_all_accounts",
    TaskName.SYNC_CONNECTION: "app.sync.tasks.sync_connection",
    TaskName.SCHEDULE_INCREMENTAL_SYNCS: "app.sync.tasks.schedule_incremental_syncs",
    TaskName.FLUSH_WRITEBACKS: "app.writeback.tasks.flush_writebacks",
    TaskName.FLUSH_DUE_WRITEBACKS: "app.writeback.tasks.flush_due_writebacks",
    TaskName.PROCESS_INBOX: "app.webhooks.tasks.process_webhook_inbox",
    TaskName.SWEEP_INBOX: "app.webhooks.tasks.sweep_webhook_inbox",
    TaskName.PRUNE_INBOX: "app.webhooks.tasks.prune_webhook_inbox",
    TaskName.DELIVER_WEBHOOKS: "app.endpoints.tasks.deliver_webhooks",
    TaskName.DELIVER_DUE_WEBHOOKS: "app.endpoints.tasks.deliver_due_webhooks",
    TaskName.PRUNE_WEBHOOK_EVENTS: "app.endpoints.tasks.prune_webhook_events",
    TaskName.RETRY_STALLED_JOBS: "app.jobs.periodic.retry_stalled_jobs",
    TaskName.REMOVE_OLD_JOBS: "app.jobs.periodic.remove_old_jobs",
}
