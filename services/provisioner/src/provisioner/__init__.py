"""Tenant environments: a CloudFormation stack and a data space per tenant,
from the tenant table's stream."""
