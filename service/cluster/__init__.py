"""Running several gateway replicas on one Redis (issue 20 items 2 and 3); not wired in yet."""
