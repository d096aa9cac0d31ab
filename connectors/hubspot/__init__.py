"""HubSpot: the connector (official hubspot-api-client) and its sandbox."""
