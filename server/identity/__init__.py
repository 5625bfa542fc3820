"""Who is signed in: accounts, tokens, office sessions and devices, as one feature.

``accounts.py``  users, passwords (argon2id), sign-in throttling, devices' refresh tokens
``tokens.py``    access tokens (JWT) signed with rotatable keys
``sessions.py``  the office pages' cookie sessions and CSRF tokens
``devices.py``   the device list and revoking a device: the one read the API and the office share
``status.py``    what a phone reports on every call (``Doorstep-Unsent``, …) and the gate a revoked
                 device meets (lost: refused; returned: its final push first)
``routes.py``    the API: ``/api/auth/login``, ``/refresh``, ``/logout``, ``/api/devices``
``pages.py``     the office: ``/office/login``, ``/office/logout``, ``/office/devices``

This module imports nothing: ``server.http`` and ``server.office.pages`` import
``accounts``, ``tokens`` and ``sessions``, and ``routes``/``pages`` import those two.
"""
