"""The Images API slice: ``/images/generations`` and ``/images/edits`` on the pool's image tool."""
