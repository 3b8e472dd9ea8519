"""IDEAL: Instrument for Documentation and Threat Assessment in Latin America."""

__version__ = "0.1.0"
