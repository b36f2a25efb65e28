"""Taint tracking: pure, I/O-free models of how stolen XEM spreads (see ``propagate``)."""
