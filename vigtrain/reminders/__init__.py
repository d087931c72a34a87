"""Reminders and escalations: the daily jobs that tell people what has waited too long for them."""
