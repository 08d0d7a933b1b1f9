"""The Discord adapter: parse a command, call the core, format, respond.

Arrives with the bot issue.
"""
