"""The local platform: moto's server as the embedded AWS, the repository's templates deployed into
it through CloudFormation, an HTTP gateway and event pumps that run the real Lambda handlers.

Everything it wires (routes, queues, streams, environment variables) is read from the templates,
so what runs locally is what deploys to AWS.
"""
