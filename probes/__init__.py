"""Probes: measure and return values; never raise out."""
