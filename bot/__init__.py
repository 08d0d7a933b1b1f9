"""The Discord adapter: parse a command, call the core, format, respond (arrives with the bot issue)."""
