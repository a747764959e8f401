"""ERR: error statuses and OpenAI's error envelope {"error": {"message", "type", "param", "code"}}."""
