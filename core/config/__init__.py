"""Settings: the config file's schema, secret references, and settings resolved once at start."""
