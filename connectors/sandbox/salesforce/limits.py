"""The org's daily API request allocation, and the ``limits/`` resource.

Every API call counts (OAuth and login calls do not); each response says
``Sforce-Limit-Info: api-usage=<used>/<max>``; once ``used`` reaches ``max`` calls are refused
with 403 ``REQUEST_LIMIT_EXCEEDED`` until an admin resets or raises the allocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DailyAllocation"]


@dataclass
class DailyAllocation:
    """Requests used today, out of ``maximum``."""

    maximum: int
    used: int = 0

    def take(self) -> bool:
        """Count one call if there is allocation left; False if the org is over its limit."""
        if self.used >= self.maximum:
            return False
        self.used += 1
        return True

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` value."""
        return f"api-usage={self.used}/{self.maximum}"

    def configure(self, *, used: int | None = None, maximum: int | None = None) -> None:
        """Set the usage and/or the allocation (an admin's knob)."""
        if maximum is not None:
            if maximum < 0:
                raise ValueError("max must not be negative")
            self.maximum = maximum
        if used is not None:
            if used < 0:
                raise ValueError("used must not be negative")
            self.used = used

    def snapshot(self) -> dict[str, int]:
        """``{"used", "max", "remaining"}``."""
        return {"used": self.used, "max": self.maximum, "remaining": self.remaining}

    @property
    def remaining(self) -> int:
        """Requests left today."""
        return max(0, self.maximum - self.used)

    def limits_body(self) -> dict[str, Any]:
        """``GET limits/``: the daily API requests and a few other org limits, as Salesforce
        lists them (``{"Max", "Remaining"}`` per limit)."""
        return {
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "ConcurrentSyncReportRuns": {"Max": 20, "Remaining": 20},
            "DailyApiRequests": {"Max": self.maximum, "Remaining": self.remaining},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DailyDurableStreamingApiEvents": {"Max": 10000, "Remaining": 10000},
            "DailyGenericStreamingApiEvents": {"Max": 10000, "Remaining": 10000},
            "DailyStandardVolumePlatformEvents": {"Max": 10000, "Remaining": 10000},
            "DailyStreamingApiEvents": {"Max": 10000, "Remaining": 10000},
            "DailyWorkflowEmails": {"Max": 1150, "Remaining": 1150},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
            "FileStorageMB": {"Max": 20480, "Remaining": 20480},
            "HourlyAsyncReportRuns": {"Max": 1200, "Remaining": 1200},
            "HourlyDashboardRefreshes": {"Max": 200, "Remaining": 200},
            "HourlyODataCallout": {"Max": 10000, "Remaining": 10000},
            "HourlySyncReportRuns": {"Max": 500, "Remaining": 500},
            "HourlyTimeBasedWorkflow": {"Max": 1000, "Remaining": 1000},
            "MassEmail": {"Max": 5000, "Remaining": 5000},
            "SingleEmail": {"Max": 5000, "Remaining": 5000},
        }
