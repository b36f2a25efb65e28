"""The dashboard's screens beyond the main one: details, help, prompts."""
