"""Versioned, read-only code sets: the bundled files and the in-memory search index."""
