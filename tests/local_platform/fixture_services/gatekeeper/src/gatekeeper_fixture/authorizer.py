"""A TOKEN authorizer whose answer is spelled in the token: "Bearer <answer>:<tenant>".

allow -> Allow on every method; get-only -> Allow on GET only; deny -> an explicit Deny;
anything else -> Unauthorized. Each call is counted in the context, to observe caching.
"""

import itertools

_calls = itertools.count(1)


def handler(event, context):
    answer, _, tenant = event["authorizationToken"].removeprefix("Bearer ").partition(":")
    api = event["methodArn"].split("/", 2)
    everything = f"{api[0]}/{api[1]}/*/*"
    if answer == "allow":
        statement = {"Effect": "Allow", "Resource": everything}
    elif answer == "get-only":
        statement = {"Effect": "Allow", "Resource": f"{api[0]}/{api[1]}/GET/*"}
    elif answer == "deny":
        statement = {"Effect": "Deny", "Resource": everything}
    else:
        raise Exception("Unauthorized")
    return {
        "principalId": f"user-of-{tenant}",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", **statement}],
        },
        "context": {"tenant_id": tenant, "calls": next(_calls)},
    }
