"""The Quick Clear Answer: one object, built once, rendered to terminal, Markdown, HTML or JSON."""
