"""assistants-conformance: conformance and load testing for OpenAI Assistants API servers."""

__version__ = "0.1.0"
