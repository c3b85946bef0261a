"""The pipeline's stage objects and their event-time state: ingest, aggregate, buckets, watermarks, stored state."""
