"""The event log: every event on the bus, kept whole, by tenant and time, so it can be read
(EventBridge archives can only be replayed, not read).

Runtime code (the recorder runs as a Lambda function): it imports only the standard library,
pydantic, tenant_context, boto3 and Powertools, never the developer tools beside it.
"""
