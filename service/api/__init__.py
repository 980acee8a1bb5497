"""HTTP-only helpers shared by the REST routers."""
