"""The sandbox's TLS: a local certificate authority and a loopback server certificate.

simple-salesforce only speaks https, so the Salesforce fake is served over TLS with a
certificate from a private CA. Clients trust the CA file (``requests``' ``verify=``, or a
connection's ``settings.ca_bundle``). The files are reused while they exist, so a CA that a
client was given stays valid across restarts.
"""

from __future__ import annotations

import os
from pathlib import Path

import requests
import trustme

__all__ = ["CA_FILE", "tls_files", "trusting_session"]

CA_FILE = "sandbox-ca.pem"
_CERT_FILE = "sandbox-cert.pem"
_KEY_FILE = "sandbox-key.pem"


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    if private:
        partial.chmod(0o600)
    partial.replace(path)


def tls_files(data_dir: str | os.PathLike[str]) -> tuple[str, str, str]:
    """``(ca_pem_path, cert_path, key_path)`` in ``data_dir``, made on first use.

    The CA is ``<data_dir>/sandbox-ca.pem``; the server certificate (chain included) is valid
    for ``127.0.0.1``, ``::1`` and ``localhost``.
    """
    directory = Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = (directory / n for n in (CA_FILE, _CERT_FILE, _KEY_FILE))
    if not (ca_path.is_file() and cert_path.is_file() and key_path.is_file()):
        authority = trustme.CA(organization_name="icp-sync sandbox")
        leaf = authority.issue_cert(
            "127.0.0.1", "::1", "localhost", organization_name="icp-sync sandbox"
        )
        # The key and certificate first, the CA last: its presence marks a complete set.
        _write(key_path, leaf.private_key_pem.bytes(), private=True)
        _write(cert_path, b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        _write(ca_path, authority.cert_pem.bytes())
    return str(ca_path), str(cert_path), str(key_path)


class _ClosingSession(requests.Session):
    """A session whose ``close()`` closes its kept-alive connections now.

    urllib3 2's ``PoolManager.clear()`` leaves pools open until they are garbage collected, and
    an idle TLS connection holds up the sandbox server's shutdown.
    """

    def close(self) -> None:
        for adapter in self.adapters.values():
            manager = getattr(adapter, "poolmanager", None)
            if manager is None:
                continue
            for key in manager.pools.keys():  # noqa: SIM118 (the container refuses iteration)
                pool = manager.pools.get(key)
                if pool is not None:
                    pool.close()
        super().close()


def trusting_session(ca_file: str | os.PathLike[str]) -> requests.Session:
    """A requests session (for simple-salesforce) that trusts the sandbox CA.

    ``trust_env`` is off because, with it on, requests lets a ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` environment variable override the session's ``verify``, and proxy
    variables reroute loopback calls.
    """
    session = _ClosingSession()
    session.verify = os.fspath(ca_file)
    session.trust_env = False
    return session
