"""API keys (hashed, scoped) and encryption of stored CRM credentials."""

from __future__ import annotations

import hashlib
import os
import secrets
from enum import IntEnum
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from app.core.config import Settings

KEY_PREFIX = "icps_"


class Scope(IntEnum):
    """Scopes are ordered: ``admin`` can do what ``write`` can, which can do what ``read`` can."""

    READ = 1
    WRITE = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Scope:
        """``"write"`` → ``Scope.WRITE``; ValueError for anything else."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown scope {name!r}; use read, write or admin") from None


def new_api_key() -> str:
    """A fresh random key; the only time it exists in clear text."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """SHA-256 of the key: keys are long random strings, so a slow hash adds nothing."""
    return hashlib.sha256(key.encode()).hexdigest()


def grants(scopes: list[str], needed: Scope) -> bool:
    """True when any of ``scopes`` is at least ``needed``."""
    return any(Scope.parse(s) >= needed for s in scopes)


def credential_cipher(settings: Settings) -> MultiFernet:
    """Fernet keys from ``ICP_SYNC_SECRET_KEYS`` (newest first, for rotation), or one
    generated once into the data dir for the embedded default."""
    if settings.secret_keys is not None:
        raw = [k.strip() for k in settings.secret_keys.get_secret_value().split(",") if k.strip()]
    else:
        raw = [_local_secret_key(settings.data_dir).decode()]
    return MultiFernet([Fernet(k) for k in raw])


def _local_secret_key(data_dir: Path) -> bytes:
    path = data_dir.expanduser() / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written owner-only from the first byte (never world-readable, however briefly) to
        # a file of this process's, then linked into place: of two processes starting at
        # once, one key wins and both read it whole.
        draft = path.with_name(f".secret.key.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(Fernet.generate_key())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_bytes().strip()


_cipher: MultiFernet | None = None


def configure_secrets(settings: Settings) -> None:
    """Load the credential keys once per process (the app, the CLI and workers call it)."""
    global _cipher
    _cipher = credential_cipher(settings)


def secrets_cipher() -> MultiFernet:
    """The process's credential cipher (from the environment's settings if not configured)."""
    if _cipher is None:
        from app.core.config import get_settings

        configure_secrets(get_settings())
    assert _cipher is not None
    return _cipher
