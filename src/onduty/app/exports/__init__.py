"""Exports that work without the platform: calendar feeds, the contact list, escalation charts, load reports."""
