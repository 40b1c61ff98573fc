"""The OpenAI-shaped HTTP product: auth, validation, the model catalog, conversation reuse, and the
mapping from the browser layer's cumulative snapshots to OpenAI responses and SSE chunks.

``service/`` talks to ``browser/`` only through ``service.pool_adapter`` (which imports the names
``browser/__init__.py`` exports); everything else depends on the small protocols in
``service.backend``.
"""
