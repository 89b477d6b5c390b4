"""Dagster wiring: resources, assets, checks, schedules, sensors. Domain logic lives outside this package."""
