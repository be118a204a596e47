"""onduty: incident response for teams that run production AI systems for clients."""

__version__ = "0.1.0"
