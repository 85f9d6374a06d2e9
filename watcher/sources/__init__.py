"""Source kinds. Each module defines a Source subclass declared with `kind="..."`."""
