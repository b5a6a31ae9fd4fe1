"""Feature package."""
