"""HubSpot: the production connector (official hubspot-api-client) and its mapping.

Its stand-in for tests and demos is ``connectors.sandbox.hubspot``, which nothing here imports.
"""

from connectors.hubspot.connector import HubSpotConnector

__all__ = ["HubSpotConnector"]
