"""Message grammars as data: the loader and the compiled model (see grammars/README.md)."""

from translators.grammar.loader import (
    GrammarChoice,
    GrammarError,
    available_grammars,
    codelist,
    load_grammar,
    load_grammar_file,
    segment_dictionary,
    select_grammar,
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

__all__ = ["ElementDef", "Grammar", "GrammarChoice", "GrammarError", "HierarchyDef", "LoopNode",
           "SegmentDef", "SegmentNode", "SyntaxRule", "available_grammars", "codelist",
           "load_grammar", "load_grammar_file", "segment_dictionary", "select_grammar"]
