"""First-party Intake plugins, installed as the package ``intake_plugins``.

They are registered through entry points in pyproject.toml exactly as a third-party
plugin would be; nothing in the core imports them directly.
"""
