"""Organizations, users, API keys and roles."""
