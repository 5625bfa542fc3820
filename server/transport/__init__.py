"""Transport as one feature: school runs planned from the register, and how they went.

``runs.py``   the reads: a day's runs against the register close, the pupils a run may collect,
              the schools; the one module the API and the office share
``plan.py``   planning runs with the planner (``server/planner/``, which knows nothing of HTTP or
              the database) and creating them through the sync engine
``routes.py`` the API: ``/api/transport/plan``, ``/api/transport/runs``
``pages.py``  the office: ``/office/transport``, ``/office/transport/day``

This module imports nothing.
"""
