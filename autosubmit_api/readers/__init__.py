"""Readers: the only code that opens Autosubmit's files and databases. One module per kind."""
