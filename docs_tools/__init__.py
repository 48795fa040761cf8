"""What builds the documentation site and is not part of it (``mkdocs.yml`` loads these)."""
