"""Encounters and their coding: diagnoses, service lines, edits, and the coding status."""
