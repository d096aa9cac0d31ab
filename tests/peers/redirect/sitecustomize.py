"""Put on a peer's PYTHONPATH: sends its HTTP calls for a real CRM host to the sandbox instead.

``ICP_SYNC_PEER_REDIRECTS`` holds ``https://real.host=http://127.0.0.1:8900`` pairs separated by
``;``. Only the scheme and host of matching URLs change; the peer's own code is untouched. It
rewrites at the transport (``requests``' adapter), so every call is covered, however the peer
builds it.
"""

from __future__ import annotations

import os


def _redirects() -> list[tuple[str, str]]:
    pairs = []
    for item in os.environ.get("ICP_SYNC_PEER_REDIRECTS", "").split(";"):
        if "=" in item:
            real, sandbox = item.split("=", 1)
            pairs.append((real.rstrip("/"), sandbox.rstrip("/")))
    return pairs


def _install() -> None:
    redirects = _redirects()
    if not redirects:
        return
    try:
        from requests.adapters import HTTPAdapter
    except ImportError:  # a peer without requests: nothing to redirect
        return
    send = HTTPAdapter.send

    def send_to_sandbox(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        for real, sandbox in redirects:
            if request.url.startswith(real + "/") or request.url == real:
                request.url = sandbox + request.url[len(real) :]
                break
        return send(self, request, *args, **kwargs)

    HTTPAdapter.send = send_to_sandbox  # type: ignore[method-assign]


_install()
