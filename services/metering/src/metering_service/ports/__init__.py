"""What the service needs from the outside world, as Protocols."""
