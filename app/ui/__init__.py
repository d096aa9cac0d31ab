"""The dashboard (DESIGN §10): pages for RevOps, served by the same app as the API."""
