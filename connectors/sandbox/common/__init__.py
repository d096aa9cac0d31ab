"""What the CRM fakes share: the server runner, fault injection and call counting, the
``/_sandbox/`` admin routes and their client, webhook batching, and the demo data."""
