"""Message grammars as data: the loader and the compiled model (see grammars/README.md)."""

from translators.grammar.loader import (
    GrammarError,
    available_grammars,
    codelist,
    load_grammar,
    load_grammar_file,
    segment_dictionary,
)
from translators.grammar.model import (
    ElementDef,
    Grammar,
    HierarchyDef,
    LoopNode,
    SegmentDef,
    SegmentNode,
    SyntaxRule,
)

__all__ = ["ElementDef", "Grammar", "GrammarError", "HierarchyDef", "LoopNode", "SegmentDef",
           "SegmentNode", "SyntaxRule", "available_grammars", "codelist", "load_grammar",
           "load_grammar_file", "segment_dictionary"]
