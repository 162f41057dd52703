"""sfx test suite."""
