"""Alerts: telling subscribers when schools in their scope change level, by e-mail and by webhook."""
