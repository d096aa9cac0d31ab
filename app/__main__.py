"""``python -m app`` is ``icp-sync``."""

from app.cli import main

main()
