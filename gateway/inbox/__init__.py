"""The durable inbox: raw bytes committed before any acknowledgment leaves (promise 1)."""
