"""Transport channels that bring interchanges in and take documents out (AS2, SFTP)."""
