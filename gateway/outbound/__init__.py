"""The outbound path: outbox rows -> rendered documents -> delivery per partner stage -> acks.

``enqueue`` writes what we owe a partner inside the caller's transaction (promise 2: the decision
and its documents commit together); ``dispatcher`` claims due rows and delivers them through
``transports``; ``acks`` matches the partner's 997/999/CONTRL to what they acknowledge.
"""
