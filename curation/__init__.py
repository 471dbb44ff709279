"""massivetext-curation core library: schema, config, readers, text utilities, CLI (no Beam imports)."""

__version__ = "0.1.0"
