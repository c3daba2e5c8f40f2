"""Shared data: settings, requirement profiles, the wire contract and readiness rules."""
