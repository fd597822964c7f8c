"""edigate's I/O edge: HTTP, AS2, SFTP, storage, jobs, dispatch and the CLI.

The pure cores (translators, schemas, reconciler, optimizer) never import this package.
"""

__version__ = "0.1.0"
