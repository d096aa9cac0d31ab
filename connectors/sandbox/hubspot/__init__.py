"""A faithful local stand-in for HubSpot's CRM API (DESIGN §7): the standard objects with a real
portal's default properties, search, batch, owners, pipelines, associations (v3, v4) and
property history, so the ecosystem's own connectors run against it unchanged.

``create_app()`` returns the ASGI app; serve it with
``connectors.sandbox.common.server.start_server`` and point the official client at it with
``hubspot.HubSpot(access_token=..., host=url)``.
"""

from connectors.sandbox.hubspot.app import HubSpotSandbox, create_app

__all__ = ["HubSpotSandbox", "create_app"]
