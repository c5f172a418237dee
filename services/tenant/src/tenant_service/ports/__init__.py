"""typing.Protocol interfaces the domain and use cases need."""
