"""LIMIT: documented request limits, tested at the boundary (accepted) and one past it (rejected)."""
