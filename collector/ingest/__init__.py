"""Receive: reports committed many requests at once, on the driver's own statements."""
