"""Interoperability harness: third-party ndt7 clients against the collector's server."""
