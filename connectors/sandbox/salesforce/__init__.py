"""A faithful local stand-in for the Salesforce REST API (DESIGN §7).

``create_app()`` returns the ASGI app; ``tls_files(data_dir)`` makes the local CA and server
certificate it is served with (https: simple-salesforce speaks nothing else). Serve it with
``connectors.sandbox.common.server.start_server(app, ssl_certfile=cert, ssl_keyfile=key)`` and
point simple-salesforce at it with
``Salesforce(instance_url=url, session_id=token, session=s)`` where
``s = trusting_session(ca_pem)`` (a requests session that verifies with the sandbox CA).
"""

from connectors.sandbox.salesforce.app import SalesforceSandbox, create_app
from connectors.sandbox.salesforce.tls import tls_files, trusting_session

__all__ = ["SalesforceSandbox", "create_app", "tls_files", "trusting_session"]
