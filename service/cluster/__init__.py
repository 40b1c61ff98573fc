"""Running several gateway replicas on one Redis (issue 20): one browser per account (item 2:
``lease``, ``replicas``, ``ownership``, ``guard``, wired in by ``lifespan``); the cluster view every
replica reports to (``view``); any replica answering any request by forwarding what lives on another
one (item 3: ``forward``, signed by ``signing``)."""
