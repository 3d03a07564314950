"""Reading typed fields out of decoded JSON objects, with a named reason for every refusal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import json
import math
from typing import Any

import numpy as np

from twin_bridge.core.quoting import quote_names, shorten
from twin_bridge.errors import TwinBridgeError

__all__ = ['REJECTION_REASONS', 'MessageRejectedError', 'check_keys', 'finite_number', 'load_json',
           'name', 'object_field', 'required', 'stamp_ns', 'vector']

#: Every reason a message is rejected for (the counters shown on diagnostics).
REJECTION_REASONS = ('oversized', 'malformed_json', 'schema_version', 'missing_field',
                     'bad_type', 'non_finite', 'bad_length', 'unknown_key')

_NS = 1_000_000_000


class MessageRejectedError(TwinBridgeError):
    """A message that does not follow the schema; ``reason`` is one of
    :data:`REJECTION_REASONS`, the text names the field."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f'{reason}: {detail}')
        self.reason = reason
        self.detail = detail


def _no_constants(token: str) -> float:
    raise MessageRejectedError('non_finite', f'{token} is not a number this schema accepts')


def load_json(payload: bytes | str, max_bytes: int) -> Any:
    """``payload`` decoded as JSON (``NaN``/``Infinity`` tokens refused).

    :raise MessageRejectedError: ``oversized`` beyond ``max_bytes``, ``malformed_json``
    """
    if len(payload) > max_bytes:
        raise MessageRejectedError('oversized', f'{len(payload)} bytes > {max_bytes}')
    try:
        return json.loads(payload, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MessageRejectedError('malformed_json', shorten(str(exc))) from None


def check_keys(obj: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """:raise MessageRejectedError: ``unknown_key`` naming the keys of ``obj`` not in ``allowed``"""
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        raise MessageRejectedError('unknown_key', f'{where}: {quote_names(unknown)}')


def required(obj: Mapping[str, Any], key: str, where: str) -> Any:
    """``obj[key]``; :raise MessageRejectedError: ``missing_field`` naming ``where.key``"""
    if key not in obj:
        raise MessageRejectedError('missing_field', f'{where}.{key}')
    return obj[key]


def object_field(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` if it is a JSON object; :raise MessageRejectedError: ``bad_type``"""
    if not isinstance(value, dict):
        raise MessageRejectedError('bad_type',
                                   f'{where} must be an object, got {type(value).__name__}')
    return value


def finite_number(value: Any, where: str) -> float:
    """``value`` as a finite float; :raise MessageRejectedError: ``bad_type``, ``non_finite``"""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MessageRejectedError('bad_type',
                                   f'{where} must be a number, got {type(value).__name__}')
    number = float(value)
    if not math.isfinite(number):
        raise MessageRejectedError('non_finite', f'{where} = {number}')
    return number


def vector(value: Any, length: int, where: str) -> np.ndarray:
    """``value`` as a finite float64 array of ``length`` numbers.

    :raise MessageRejectedError: ``bad_type``, ``bad_length``, ``non_finite``
    """
    if not isinstance(value, list):
        raise MessageRejectedError('bad_type', f'{where} must be an array of {length} numbers')
    if len(value) != length:
        raise MessageRejectedError('bad_length', f'{where} has {len(value)} numbers, expected '
                                            f'{length}')
    return np.array([finite_number(v, f'{where}[{i}]') for i, v in enumerate(value)])


def name(value: Any, max_chars: int, where: str) -> str:
    """``value`` as a string of at most ``max_chars`` characters.

    :raise MessageRejectedError: ``bad_type``, ``bad_length``
    """
    if not isinstance(value, str):
        raise MessageRejectedError('bad_type', f'{where} must be a string')
    if len(value) > max_chars:
        raise MessageRejectedError('bad_length', f'{where} {shorten(value)} is longer than '
                                            f'{max_chars} characters')
    return value


def stamp_ns(value: Any, where: str = 'stamp') -> int:
    """A ``{"sec": int, "nanosec": int}`` stamp as integer nanoseconds.

    :raise MessageRejectedError: ``missing_field``, ``bad_type``, ``unknown_key``, ``bad_length``
        (``sec`` negative or ``nanosec`` outside 0..999999999)
    """
    obj = object_field(value, where)
    check_keys(obj, ('sec', 'nanosec'), where)
    sec, nanosec = required(obj, 'sec', where), required(obj, 'nanosec', where)
    for key, part in (('sec', sec), ('nanosec', nanosec)):
        if isinstance(part, bool) or not isinstance(part, int):
            raise MessageRejectedError('bad_type', f'{where}.{key} must be an integer')
    if sec < 0 or not 0 <= nanosec < _NS or sec >= 2**63 // _NS:
        raise MessageRejectedError(
            'bad_length', f'{where} {{sec: {sec}, nanosec: {nanosec}}} out of range '
                          '(sec 0..9223372035, nanosec 0..999999999)')
    return sec * _NS + nanosec
