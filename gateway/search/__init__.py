"""Search by business number: the reference index and the queries over it."""
