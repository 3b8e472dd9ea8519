"""Threat scoring: methodology profiles and the scoring functions."""
