"""Course kit engine: builds the student and solution notebooks and grades submissions."""

__version__ = "0.1.0"
