"""saas-replay: read a tenant's events from the event log, print them as a timeline, replay them
in process into a consumer handler, or onto the bus through an EventBridge archive replay."""
