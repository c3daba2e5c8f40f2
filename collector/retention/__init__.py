"""Retention: what the collector keeps, for how long, and the purge that applies it (docs/privacy.md)."""
