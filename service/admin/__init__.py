"""Operations: the admin API (accounts and keys at runtime) and the dashboard, behind the admin key."""
