"""Edge: what stands between the network and the routes (limits, headers, rate limits, metrics, errors)."""
