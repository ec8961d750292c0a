"""Uptime monitoring: the gates on a schedule, alerts on state changes."""
