"""OpenAI's Conversations API (``/conversations``): durable conversations a Responses request names
with ``conversation`` to continue them. Not to be confused with ``service.conversations``, which maps
chat histories to the Gemini chats that hold them."""
