"""Values the commands' help texts and defaults name, spelled out: the modules that own them import SQLAlchemy and
every view, which a command's start (and ``nimrs --help``) should not pay for. tests/adapters/test_cli_startup.py
checks each one against its owner, so they cannot drift apart."""

VIEW_NAMES = ("overdue", "audit", "board", "statistics", "incident_list")  # projections.projector.VIEW_NAMES
STATISTICS_BY = ("type", "route", "harm_rating", "risk_rating", "setting", "month")  # projections.statistics.BY
CLOCK_STATUSES = ("overdue", "due_soon", "open", "none")  # projections.incident_list.CLOCK_STATUSES
# projections.overdue.OBLIGATION_STATUSES
OBLIGATION_STATUSES = ("open", "overdue", "due_soon", "met_on_time", "met_late", "waived", "all")
PROJECTION_BATCH = 1000  # adapters.projection_runner.workers.DEFAULT_BATCH
REBUILD_BATCH = 20_000  # adapters.projection_runner.workers.REBUILD_BATCH
