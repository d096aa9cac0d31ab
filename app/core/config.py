"""Settings, read once from the environment (prefix ``ICP_SYNC_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; documented in README.md's configuration table."""

    model_config = SettingsConfigDict(env_prefix="ICP_SYNC_", env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql+psycopg://… of an external server; unset = embedded PostgreSQL",
    )
    data_dir: Path = Field(default=Path(".icp-sync"), description="embedded pgdata, keys, CA")
    secret_keys: SecretStr | None = Field(
        default=None,
        description="comma-separated Fernet keys, newest first; unset = generated into data_dir",
    )
    public_url: str | None = Field(default=None, description="URL the CRMs call us at")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="text lines, or one JSON object per line"
    )
    db_pool_size: int = 10
    max_body_bytes: int = 5 * 1024 * 1024
    worker_concurrency: int = 4
    stalled_job_seconds: int = 60
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="let outgoing webhooks reach private, loopback and link-local addresses",
    )
    webhook_max_body_bytes: int = 1024 * 1024
    dashboard_session_hours: int = Field(
        default=12, ge=1, le=24 * 30, description="how long a dashboard sign-in lasts"
    )
    dashboard_secure_cookie: bool = Field(
        default=True,
        description="mark the dashboard's session cookie Secure (browsers still send it to "
        "http://localhost); turn off only to sign in over plain HTTP on another host",
    )

    @property
    def embedded(self) -> bool:
        """True when no external database is configured."""
        return self.database_url is None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
