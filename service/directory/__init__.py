"""Providers, facilities, payers and fee schedules (trading partners arrive with claims)."""
