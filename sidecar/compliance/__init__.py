"""The compliance engine: detectors, validators, rule packs and evaluation. Pure: no I/O but its own data files."""
