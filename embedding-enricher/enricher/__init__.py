"""embedding-enricher: gives every span loaded into otel.otel_traces a sentence embedding, exactly once."""
