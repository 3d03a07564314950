"""SDF ``<include>``: the included file (``model://``, model directories) and what it overrides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import xml.etree.ElementTree as ET

from twin_bridge.core.transforms import Pose
from twin_bridge.description.sdf_elements import (
    ElementContext,
    ParseState,
    read_bool,
    read_pose,
    read_text,
    read_xml,
)

MAX_INCLUDE_DEPTH = 32


@dataclass(frozen=True)
class ModelOverride:
    """What an ``<include>`` sets for the model it includes, over the model file's own values.

    ``base_dir`` is the model file's directory (its relative URIs resolve there); ``pose`` is
    ``(pose, relative_to)``; ``None``/``''`` mean "as the model file says".
    """

    base_dir: Path | None = None
    name: str = ''
    pose: tuple[Pose, str] | None = None
    static: bool | None = None
    placement_frame: str = ''
    merge: bool = False


def read_include(elem: ET.Element, ctx: ElementContext, depth: int, base_dir: Path,
                 state: ParseState) -> tuple[ET.Element, ElementContext, ModelOverride] | None:
    """The ``<model>`` an ``<include>`` brings in, its context and the include's overrides.

    ``None`` for a file holding only lights (``model://sun``) or actors (those are ignored).

    :param depth: how many includes deep ``elem`` is (a cycle stops at :data:`MAX_INCLUDE_DEPTH`)
    :param base_dir: directory of the including file
    :raise ResourceNotFoundError: the URI or the model's SDF file cannot be found
    :raise WorldLoadError: no ``<uri>``, too deep, or no ``<model>`` in the file
    """
    if depth >= MAX_INCLUDE_DEPTH:
        raise ctx.error(f'includes nested deeper than {MAX_INCLUDE_DEPTH} (a cycle?)')
    uri = read_text(elem.find('uri'))
    if not uri:
        raise ctx.error('<include> without <uri>')
    target = state.resolve(uri, base_dir, ctx)
    model_file = model_file_of(target, ctx) if target.is_dir() else target
    root = read_xml(model_file, ctx)
    mctx = ElementContext(model_file, origin=ctx.where())
    model_elem = root.find('model') if root.tag == 'sdf' else None
    if model_elem is None:
        kinds = [c.tag for c in root] if root.tag == 'sdf' else [root.tag]
        if root.tag == 'sdf' and kinds and all(k in ('light', 'actor') for k in kinds):
            if 'actor' in kinds:
                state.ignore(ctx, f'included <actor> from {uri} is not simulated')
            return None  # a light (e.g. model://sun) has nothing to simulate
        raise mctx.error(f'no <model> in the file included as "{uri}"')
    override = ModelOverride(
        base_dir=model_file.parent,
        name=read_text(elem.find('name')),
        pose=read_pose(elem.find('pose'), ctx) if elem.find('pose') is not None else None,
        static=(read_bool(elem.find('static'), ctx, False) if elem.find('static') is not None
                else None),
        placement_frame=read_text(elem.find('placement_frame')),
        merge=elem.get('merge', '').strip().lower() in ('1', 'true'))
    return model_elem, mctx.child(model_elem), override


def model_file_of(directory: Path, ctx: ElementContext) -> Path:
    """The SDF file of a model directory: model.config's newest <sdf>, else model.sdf."""
    config = directory / 'model.config'
    if config.is_file():
        root = read_xml(config, ctx)
        best: tuple[tuple[int, ...], str] | None = None
        for sdf in root.findall('sdf'):
            try:
                version = tuple(int(v) for v in sdf.get('version', '0').split('.'))
            except ValueError:
                version = (0,)
            if read_text(sdf) and (best is None or version > best[0]):
                best = (version, read_text(sdf))
        if best is not None:
            candidate = directory / best[1]
            if not candidate.is_file():
                raise ctx.not_found(
                    f'{config} names <sdf>{best[1]}</sdf>, which does not exist')
            return candidate
    candidate = directory / 'model.sdf'
    if candidate.is_file():
        return candidate
    raise ctx.not_found(
        f'model directory {directory} has no model.config <sdf> and no model.sdf')
