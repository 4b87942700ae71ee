"""Sub-commands of the CLI, one module each, found automatically by ``emgfeedback.cli``."""
