"""df-gen: build a Data Foundation on Google Cloud from YAML descriptors."""

__version__ = "0.1.0"
