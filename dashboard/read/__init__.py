"""The read side: every query a page, the API or the wall reads (docs/architecture.md)."""
