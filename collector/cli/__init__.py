"""``socle-collector``: the command line, and serving the app in one or several processes."""
