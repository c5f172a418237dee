"""The catalogue and its stock, reserved atomically for orders."""
