"""SQLAlchemy tables; importing this package registers every table on ``Base.metadata``."""

from app.models.account import Account, AccountScore, AccountScoreHistory
from app.models.api_key import ApiKey
from app.models.base import Base
from app.models.connection import IMPORT_CONNECTION_NAME, Connection
from app.models.health import IcpBaseline, IcpHealthCheck
from app.models.icp import IcpStatus, IcpVersion
from app.models.outbound import WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.models.outcome import Contact, ContactAccount, Deal, DealAccount
from app.models.sync import (
    FINISHED_SYNC_STATUSES,
    AccountWriteback,
    ConnectionRateLimit,
    SyncRun,
    SyncStatus,
    WritebackOutbox,
)
from app.models.webhook import WebhookInbox

__all__ = [
    "FINISHED_SYNC_STATUSES",
    "IMPORT_CONNECTION_NAME",
    "Account",
    "AccountScore",
    "AccountScoreHistory",
    "AccountWriteback",
    "ApiKey",
    "Base",
    "Connection",
    "ConnectionRateLimit",
    "Contact",
    "ContactAccount",
    "Deal",
    "DealAccount",
    "IcpBaseline",
    "IcpHealthCheck",
    "IcpStatus",
    "IcpVersion",
    "SyncRun",
    "SyncStatus",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookInbox",
    "WritebackOutbox",
]
