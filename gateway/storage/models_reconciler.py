"""reconciler tables (owned by the reconciler work; imported by gateway.storage.models)."""
