"""Running several gateway replicas on one Redis (issue 20): one browser per account (item 2:
``lease``, ``replicas``, ``ownership``, ``guard``, wired in by ``lifespan``); forwarding requests
between replicas (item 3) is not done."""
