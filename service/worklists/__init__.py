"""Worklists: bench and instrument runs built from the specimen-tests waiting, CSV in and out."""
