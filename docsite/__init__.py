"""The documentation site's build: pages generated from the code at ``mkdocs build`` time.

``docsite.hooks`` is the MkDocs hook (``mkdocs.yml``) that adds the reference pages: the
configuration from the settings models' field descriptions (``docsite.settings_reference``), the
command line from its argparse parser (``docsite.cli_reference``) and the HTTP API from the app's
OpenAPI schema (``docsite.api_reference``). Nothing here is imported by the gateway.
"""
