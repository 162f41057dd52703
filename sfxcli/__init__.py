"""sfx: turn vocal imitations into finished sound effects."""

__version__ = "0.1.0"
