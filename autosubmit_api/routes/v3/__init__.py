"""v3 routes: the legacy API, served at the root and under /v3 with identical handlers."""
