"""Implementations of the ports: DynamoDB, Fauna, EventBridge, in-memory."""
