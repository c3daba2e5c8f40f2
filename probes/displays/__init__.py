"""Displays: every attached display's EDID, decoded and classified (projector, interactive display...)."""
