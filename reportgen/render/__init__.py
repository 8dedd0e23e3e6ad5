"""Presentation: the only place numbers are formatted for people."""
