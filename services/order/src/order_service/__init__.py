"""Orders and their saga state: placed, confirmed, rejected, cancelled."""
