"""Data contracts: versioned event schemas, the registry, the envelope and the Avro codecs.

Pure: imports nothing of ours and reads only its own files.

    from schemas import default_registry
    registry = default_registry()
    registry.validate_event(event)            # [] or [{"pointer", "message", "keyword"}, ...]
    registry.business_key_of("purchase_order", data)
"""

from schemas.compat import Mode
from schemas.errors import (
    IncompatibleSchemaError,
    SchemaDefinitionError,
    SchemaError,
    UnknownSchemaError,
)
from schemas.registry import Registry, SchemaVersion, build_version, default_registry

__all__ = [
    "IncompatibleSchemaError",
    "Mode",
    "Registry",
    "SchemaDefinitionError",
    "SchemaError",
    "SchemaVersion",
    "UnknownSchemaError",
    "build_version",
    "default_registry",
]
