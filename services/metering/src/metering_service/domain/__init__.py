"""The Metering model: pure Python and pydantic, nothing else."""
