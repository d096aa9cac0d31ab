"""Salesforce: the production connector (official simple-salesforce), its auth and mapping.

Its stand-in for tests and demos is ``connectors.sandbox.salesforce``, which nothing here
imports.
"""

from connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceConnector"]
