"""Exceptions of the schema registry. Validation problems are data (lists of dicts), not these."""

from __future__ import annotations


class SchemaError(Exception):
    """Base class: something about the schemas themselves, or a lookup, went wrong."""


class UnknownSchemaError(SchemaError, KeyError):
    """An event type or version the registry does not hold."""

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0]) if self.args else ""


class SchemaDefinitionError(SchemaError):
    """A schema file is malformed or uses a construct the Avro derivation does not support."""


class IncompatibleSchemaError(SchemaError):
    """A new version breaks the compatibility mode of its type; ``problems`` says exactly how."""

    def __init__(self, subject: str, problems: list[str]) -> None:
        super().__init__(f"{subject} is incompatible: " + "; ".join(problems))
        self.subject = subject
        self.problems = problems
