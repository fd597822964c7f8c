"""Partner profiles and the partner registry."""
