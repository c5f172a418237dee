"""Event and HTTP contracts: export from code, drift check, reader checks, history gate."""
