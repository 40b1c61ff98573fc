"""Video generation as OpenAI-style jobs (``/v1/videos``), kept in SQLite in the data directory."""
