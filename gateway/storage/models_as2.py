"""as2 tables (owned by the as2 work; imported by gateway.storage.models)."""
