"""planning tables (owned by the planning work; imported by gateway.storage.models)."""
