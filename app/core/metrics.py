"""Prometheus metrics shared by the API and the workers."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "icp_sync_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "icp_sync_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ACCOUNTS_SCORED = Counter("icp_sync_accounts_scored_total", "Accounts scored", ["trigger"])
JOBS_FINISHED = Counter("icp_sync_jobs_total", "Jobs finished by this process", ["task", "status"])
SYNC_RUNS = Counter(
    "icp_sync_sync_runs_total", "Sync runs finished by this process", ["kind", "status"]
)
CRM_CALLS = Counter(
    "icp_sync_crm_calls_total",
    "HTTP attempts made to CRMs by this process, by the status answered (no_answer: none came)",
    ["kind", "status"],
)
# Read from PostgreSQL at scrape time, so every replica reports the cluster's truth.
OUTBOX_PENDING = Gauge("icp_sync_outbox_pending", "Verdicts waiting to be written to a CRM")
INBOX_PENDING = Gauge(
    "icp_sync_webhook_inbox_pending", "Webhook events received and not yet processed"
)
JOB_QUEUE_DEPTH = Gauge("icp_sync_job_queue_depth", "Jobs waiting or running, by task", ["task"])
# The active ICP's health (DESIGN §9), read at scrape time too: age from its activation, drift
# and alerts from its latest daily check (NaN where there is nothing to say).
ICP_AGE_DAYS = Gauge("icp_sync_icp_age_days", "Days since the active ICP version was activated")
ICP_HEALTH_STATUS = Gauge(
    "icp_sync_icp_health_status",
    "1 for the active ICP's status by age (ok, review_soon from 90 days, stale from 180)",
    ["status"],
)
ICP_TIER_PSI = Gauge(
    "icp_sync_icp_tier_psi", "Population stability index of the tier distribution since baseline"
)
ICP_FIELD_PSI = Gauge(
    "icp_sync_icp_psi",
    "Population stability index of a criterion's field since baseline",
    ["field"],
)
ICP_HEALTH_ALERTS = Gauge(
    "icp_sync_icp_health_alerts", "Alerts standing at the latest daily ICP health check", ["kind"]
)
ICP_HEALTH_CHECKED = Gauge(
    "icp_sync_icp_health_checked_timestamp_seconds", "When the daily ICP health check last ran"
)
