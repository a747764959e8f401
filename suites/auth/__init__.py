"""AUTH: API keys are required and checked (401 in the error envelope), and one key's objects are
invisible to another key (isolation)."""
