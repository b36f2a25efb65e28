"""The Textual dashboard. Imported only by the commands that open it (never by core or headless)."""
