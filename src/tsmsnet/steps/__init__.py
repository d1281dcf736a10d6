"""One function per workflow step, composing library modules; rules, CLI and tests call these."""
