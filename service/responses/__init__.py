"""The Responses API (``/v1/responses``) as a slice over chat serving: requests are converted to a
chat completion (``convert``), answered by ``service.chat.serving``, shaped as Response objects and
events (``shaping``), and stored per API key in SQLite (``store``) for ``previous_response_id``."""
