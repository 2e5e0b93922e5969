"""Application services: one transaction per use case, composed from the domain and storage."""
