"""Alerts (docs/alerts.md): rules evaluated against the marts after each build, delivered to channels by Apprise.

Plain modules, no Dagster import: :mod:`.rules` (kinds, defaults, scopes), :mod:`.evaluate` (mart rows ->
events, dedup and cooldown), :mod:`.messages`, :mod:`.channels` (URLs, secrets file, sending),
:mod:`.delivery` (per-channel state, back-off), :mod:`.service` (one evaluation on plain data) and
:mod:`.store` (the registry and raw tables, reading the marts). The Dagster asset is
``orchestration/defs/alerting.py``.
"""
