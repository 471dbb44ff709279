"""Apache Beam transforms and entry points that compose `curation` and `filters`."""
