"""Who is signed in: accounts, tokens, office sessions and devices, as one feature.

``accounts.py``  users, passwords (argon2id), sign-in throttling, devices' refresh tokens
``tokens.py``    access tokens (JWT) signed with rotatable keys
``sessions.py``  the office pages' cookie sessions and CSRF tokens
``devices.py``   the device list and revoking a device: the one read the API and the office share
``status.py``    what a phone reports on every call (``Doorstep-Unsent``, …) and the gate a revoked
                 device meets (lost: refused; returned: its final push first)
``routes.py``    the API: ``/api/auth/login``, ``/refresh``, ``/logout``, ``/api/devices``
``pages.py``     the office: ``/office/login``, ``/office/logout``, ``/office/devices``
``admin.py``     user administration (deactivate, reactivate, reset codes, role, rename, second
                 factor reset), shared by ``admin_cli.py`` (``doorstep user …``) and
                 ``admin_pages.py`` (``/office/users``); docs/users.md
``totp.py``      the second factor (TOTP, RFC 6238); ``totp_pages.py`` its office steps and the
                 reset-password page
``reset.py``     one-time password reset codes and ``POST /api/auth/reset-password``

This module imports nothing: ``server.http`` and ``server.office.pages`` import
``accounts``, ``tokens`` and ``sessions``, and ``routes``/``pages`` import those two.
"""
