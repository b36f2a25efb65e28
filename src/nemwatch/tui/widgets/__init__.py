"""The dashboard's panes and its status bar."""
