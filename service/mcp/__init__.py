"""The MCP door: an MCP server at ``/mcp`` (streamable HTTP, the official ``mcp`` SDK) whose tools
chat, make and edit images, make videos and run deep research through the gateway's own services,
behind the same API keys as ``/v1`` (docs/guides/mcp.md)."""
