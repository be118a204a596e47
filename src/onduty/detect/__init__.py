"""Detectors: pure numpy/scipy functions over column arrays (no database, no clock). See `feeds`."""
