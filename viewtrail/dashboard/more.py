"""Accounts, creators, the discovery inbox, Compare, Labels, Alerts and Health."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
