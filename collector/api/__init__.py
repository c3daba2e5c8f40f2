"""The HTTP API under /api/v1, the ndt7 speed-test endpoints and the health endpoints."""
