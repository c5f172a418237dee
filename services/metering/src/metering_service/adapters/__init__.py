"""The ports' implementations, one technology each (`<tech>_<port>.py`)."""
