"""The CRM fakes: ``hubspot/`` and ``salesforce/``, beside what they share in ``common/``.

Only tests, the demo and the CLI use them; production connectors never import this package.
``serve.run_sandbox`` serves both (``icp-sync sandbox``, ``python -m connectors.sandbox``).
Sandbox-only dependencies (trustme) come with the ``sandbox`` extra.
"""
