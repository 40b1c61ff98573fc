"""The chat completions slice: wire models (``protocol``), input handling (``inputs``), serving
logic (``serving``) and the HTTP routes (``router``)."""
