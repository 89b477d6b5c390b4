"""How one DuckDB value is written in the CLI's --json and --csv output (one rule for every command)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


def iso_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86_400)
    text = f"{rest:.6f}".rstrip("0").rstrip(".")
    return f"{sign}P{int(days)}DT{text}S" if days else f"{sign}PT{text}S"


def json_value(value: Any) -> Any:
    """A DuckDB value as JSON: numbers stay numbers, times are ISO 8601, NaN/inf become null."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent  # 'n', 'N' or 'F' only for NaN and infinity
        if not value.is_finite() or not isinstance(exponent, int):
            return None
        return int(value) if value == value.to_integral_value() and exponent >= 0 else float(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return str(value)  # UUID, enums, anything else DuckDB hands back


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal, str)):
        return str(value)  # exact: a DECIMAL keeps all its digits
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(json_value(value), ensure_ascii=False)
    return str(json_value(value))
