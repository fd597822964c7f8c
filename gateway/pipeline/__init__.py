"""From a committed interchange to events and acknowledgments, exactly once."""
