"""Tenants, their users and tiers; the Lambda authorizer that says who may do what."""
