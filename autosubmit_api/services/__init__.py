"""Services: what the API computes, as plain functions on Settings and primitives (no Flask)."""
