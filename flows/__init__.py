"""Prefect flows: thin wiring around emofeat's library calls."""
