"""Who is asking, and may they: the web adapter of dashboard.domain.permissions."""
