"""The Dagster code location of viewtrail: ``definitions`` assembles ``defs`` (assets, resources, sensors,
schedules, jobs, checks, the dbt assets); ``runs`` launches runs from a process and is viewtrail's
orchestrator (``viewtrail.app.orchestrator``). It imports ``viewtrail``; ``viewtrail`` never imports it."""
