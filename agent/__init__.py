"""The agent: schedule, run probes, keep and send reports."""

__version__ = "0.1.0"
