"""A faithful local stand-in for HubSpot's CRM v3 API (DESIGN §7).

``create_app()`` returns the ASGI app; serve it with
``connectors.sandbox.common.server.start_server`` and point the official client at it with
``hubspot.HubSpot(access_token=..., host=url)``.
"""

from connectors.sandbox.hubspot.app import HubSpotSandbox, create_app

__all__ = ["HubSpotSandbox", "create_app"]
