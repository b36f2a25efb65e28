"""The headless face: alert sinks and their delivery, with no UI at all."""
