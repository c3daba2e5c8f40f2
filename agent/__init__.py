"""The agent: schedule, run probes, keep and send reports."""
