"""The reference Assistants v2 server. Imports nothing from the harness outside this package."""
