"""Persistence of the chat server (SQLite by default, PostgreSQL with DATABASE_URL)."""
