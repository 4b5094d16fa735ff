"""The two pages (Playground, Learn) and the sidebar controls they are built from."""
