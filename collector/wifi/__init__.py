"""Wi-Fi of a school: its own SSIDs and teaching hours, the loi Abeille check, per-room coverage."""
