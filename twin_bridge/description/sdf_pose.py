"""SDFormat ``<pose>`` values: a translation and roll-pitch-yaw (or degrees, or a quaternion)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.core.transforms import Pose, quat_from_rpy

__all__ = ['parse_numbers', 'sdf_pose']


def parse_numbers(text: str, counts: tuple[int, ...]) -> list[float]:
    """Whitespace-separated finite numbers, as many as one of ``counts``.

    :raise ValueError: naming the text: not numbers, another count, or NaN/inf
    """
    try:
        values = [float(v) for v in text.split()]
    except ValueError:
        raise ValueError(f'bad number in "{text}"') from None
    if len(values) not in counts:
        expected = ' or '.join(str(c) for c in counts)
        raise ValueError(f'expected {expected} numbers, got "{text}"')
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f'non-finite number in "{text}"')
    return values


def sdf_pose(elem: ET.Element) -> Pose:
    """The transform a ``<pose>`` element gives (empty text: identity).

    Reads ``rotation_format="euler_rpy"`` (the default; ``degrees="true"`` for degrees) and
    ``"quat_xyzw"`` (normalised). The ``relative_to`` frame is the caller's business.

    :raise ValueError: bad or missing numbers, a zero quaternion, another rotation_format
    """
    text = (elem.text or '').strip()
    if not text:
        return Pose()
    fmt = elem.get('rotation_format', 'euler_rpy').strip()
    if fmt == 'quat_xyzw':
        values = parse_numbers(text, (7,))
        quat = np.array(values[3:])
        norm = float(np.linalg.norm(quat))
        if norm < 1e-9:
            raise ValueError('zero quaternion')
        return Pose(np.array(values[:3]), quat / norm)
    if fmt != 'euler_rpy':
        raise ValueError(f'unknown rotation_format "{fmt}"')
    values = parse_numbers(text, (6,))
    rpy = np.array(values[3:])
    if elem.get('degrees', 'false').strip().lower() in ('true', '1'):
        rpy = np.radians(rpy)
    return Pose(np.array(values[:3]), quat_from_rpy(*rpy))
