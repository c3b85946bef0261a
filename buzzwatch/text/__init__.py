"""Per-mention text work of the ingest stage: brands, language, sentiment, terms."""
