"""The gateway's stores behind one interface each, on SQLite or on a shared Redis (``state.backend``)."""
