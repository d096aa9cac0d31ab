"""What the CRM fakes share: demo data, fault injection and call counting, the server runner."""
