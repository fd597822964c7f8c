"""AS2 (RFC 4130): the codec (``cms``, ``mime``, ``message``, ``mdn``, ``mic``) is pure and
testable alone; ``certstore``, ``inbound`` and ``outbound`` add the database and HTTP."""
