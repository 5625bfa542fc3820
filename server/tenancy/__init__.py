"""Several authorities on one server: one database each, chosen per request by host name.

registry.py (``DIR/authorities.json``: names, host names, databases), dispatch.py (the ASGI
dispatcher and the check that every database is current), cli.py (``doorstep --tenants DIR
tenant add|list|migrate`` and ``serve``). docs/deploy.md, "Several authorities on one server".
"""
