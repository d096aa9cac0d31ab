"""``python -m connectors.sandbox [--port 8900]``: serve the CRM fakes without the app's CLI."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from connectors.sandbox.serve import run_sandbox


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until Ctrl+C."""
    parser = argparse.ArgumentParser(prog="python -m connectors.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--token", default="sandbox-token")
    parser.add_argument("--client-secret", default="sandbox-secret")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--companies", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def ready(running: list[Any]) -> None:
        for fake, server in running:
            print(f"{fake.name} sandbox: {server.url}  (token {args.token!r})", flush=True)

    run_sandbox(
        port=args.port,
        token=args.token,
        client_secret=args.client_secret,
        seed=args.seed,
        companies=args.companies,
        ready=ready,
    )


if __name__ == "__main__":
    main()
