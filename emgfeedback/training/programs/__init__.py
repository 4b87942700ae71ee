"""The shipped training programs (TOML data files; see docs/programs.md)."""
