"""Alerts (docs/alerts.md): rules evaluated against the marts after each build, delivered to channels by Apprise.

Plain modules, no Dagster import: :mod:`.kinds` (one module per alert kind, registered in ``KINDS``),
:mod:`.model` (rules, inputs, events), :mod:`.rules` (building and describing a rule), :mod:`.evaluate` (mart
rows -> events, dedup and cooldown), :mod:`.messages`, :mod:`.channels` (URLs, secrets file, sending),
:mod:`.delivery` (per-channel state, back-off), :mod:`.service` (one evaluation on plain data) and
:mod:`.store` (the registry and raw tables, reading the marts). The Dagster asset is
``orchestration/defs/alerting.py``.
"""
