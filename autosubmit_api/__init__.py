"""autosubmit-api: a read-mostly HTTP API over Autosubmit experiment data."""

__version__ = "4.0.1"
