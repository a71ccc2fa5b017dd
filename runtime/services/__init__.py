"""Services: how keywords reach the outside world (database tables, HTTP, the bot drive, mail)."""
