"""Finding the package's share files and resolving ``model://``, ``package://``, file and
(cached) Fuel URIs."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from twin_bridge.errors import ResourceNotFoundError

__all__ = [
    'PACKAGE_NAME',
    'find_world',
    'fuel_cache_roots',
    'model_search_path',
    'package_share_directory',
    'resolve_uri',
    'share_directory',
]

PACKAGE_NAME = 'twin_bridge'
_SOURCE_ROOT = Path(__file__).resolve().parents[2]
# Environment variables Gazebo (Harmonic and older) reads for model:// lookups, in order.
MODEL_PATH_VARIABLES = ('GZ_SIM_RESOURCE_PATH', 'IGN_GAZEBO_RESOURCE_PATH', 'SDF_PATH',
                        'GAZEBO_MODEL_PATH')
# Fuel servers whose models Gazebo caches under the same layout (the old name redirects).
FUEL_HOSTS = ('fuel.gazebosim.org', 'fuel.ignitionrobotics.org')


def share_directory() -> Path:
    """This package's share directory: the source tree when run from a checkout, else the
    installed ``share/twin_bridge`` (found through the ament index or the Python prefix)."""
    if (_SOURCE_ROOT / 'package.xml').is_file() and (_SOURCE_ROOT / 'worlds').is_dir():
        return _SOURCE_ROOT
    try:
        return package_share_directory(PACKAGE_NAME)
    except ResourceNotFoundError:
        pass
    import sys
    candidate = Path(sys.prefix) / 'share' / PACKAGE_NAME
    if candidate.is_dir():
        return candidate
    raise ResourceNotFoundError(
        f'cannot find the {PACKAGE_NAME} share directory (not in a source checkout, not in the '
        'ament index, not under sys.prefix/share)')


def package_share_directory(package: str) -> Path:
    """Share directory of a ROS package via the ament index (``AMENT_PREFIX_PATH``)."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError as exc:  # pragma: no cover - ament_index_python is a dependency
        raise ResourceNotFoundError(
            f'cannot resolve package "{package}": ament_index_python is not installed') from exc
    try:
        return Path(get_package_share_directory(package))
    except (PackageNotFoundError, LookupError, ValueError, OSError) as exc:
        raise ResourceNotFoundError(
            f'package "{package}" is not in the ament index '
            f'(AMENT_PREFIX_PATH={os.environ.get("AMENT_PREFIX_PATH", "")!r})') from exc


def model_search_path(extra: list[Path] | None = None) -> list[Path]:
    """Directories searched for ``model://NAME``: ``extra``, this package's ``models/``, then
    the Gazebo resource path variables."""
    paths = list(extra or [])
    try:
        paths.append(share_directory() / 'models')
    except ResourceNotFoundError:
        pass
    for var in MODEL_PATH_VARIABLES:
        paths.extend(Path(p) for p in os.environ.get(var, '').split(os.pathsep) if p)
    return paths


def resolve_uri(uri: str, *, base_dir: Path | None = None,
                search_path: list[Path] | None = None) -> Path:
    """Resolve a ``model://``, ``package://``, ``file://`` URI or a (relative) path to a file
    or directory that exists.

    :param uri: the reference as written in an SDF/URDF file
    :param base_dir: directory of the referring file, for relative paths
    :param search_path: directories for ``model://`` (default :func:`model_search_path`)
    :raise ResourceNotFoundError: naming the URI and where it was looked for
    """
    uri = uri.strip()
    parsed = urlparse(uri)
    if parsed.scheme == 'model':
        rel = parsed.netloc + unquote(parsed.path)
        dirs = search_path if search_path is not None else model_search_path()
        for directory in dirs:
            candidate = directory / rel
            if candidate.exists():
                return candidate
        raise ResourceNotFoundError(
            f'cannot resolve "{uri}": not found in model search path '
            f'[{", ".join(str(d) for d in dirs)}]; add its folder to GZ_SIM_RESOURCE_PATH')
    if parsed.scheme == 'package':
        return _package_file(uri, parsed.netloc, unquote(parsed.path).lstrip('/'), base_dir)
    if parsed.scheme in ('http', 'https'):
        return _fuel_cached(uri, parsed.hostname or '', unquote(parsed.path))
    if parsed.scheme == 'file':
        # file://models/x/y.dae is relative (its "host" is the first segment), as in gz-common.
        candidate = Path(unquote(parsed.netloc + parsed.path))
    elif parsed.scheme == '':
        candidate = Path(uri)
    else:
        raise ResourceNotFoundError(f'cannot resolve "{uri}": unsupported URI scheme')
    return _file(uri, candidate, base_dir, search_path)


def _file(uri: str, candidate: Path, base_dir: Path | None,
          search_path: list[Path] | None) -> Path:
    """A file path as gz-common finds it: absolute; else relative to the referring file's
    directory, then to each resource path directory."""
    if candidate.is_absolute():
        if candidate.exists():
            return candidate
        raise ResourceNotFoundError(f'cannot resolve "{uri}": {candidate} does not exist')
    tried = [base_dir] if base_dir is not None else []
    tried += search_path if search_path is not None else model_search_path()
    for directory in tried:
        if (directory / candidate).exists():
            return directory / candidate
    raise ResourceNotFoundError(
        f'cannot resolve "{uri}": {candidate} is not in {", ".join(str(d) for d in tried)} '
        '(the referring file\'s folder, then the resource path); add the folder it is relative '
        'to to GZ_SIM_RESOURCE_PATH')


def fuel_cache_roots() -> list[Path]:
    """Directories where Gazebo caches Fuel downloads: ``$GZ_FUEL_CACHE_PATH`` if set, else
    ``~/.gz/fuel`` (Garden and newer) and ``~/.ignition/fuel`` (Fortress and older)."""
    configured = os.environ.get('GZ_FUEL_CACHE_PATH', '').strip()
    if configured:
        return [Path(configured).expanduser()]
    home = Path.home()
    return [home / '.gz' / 'fuel', home / '.ignition' / 'fuel']


def _fuel_cached(uri: str, host: str, path: str) -> Path:
    """A Fuel model URL (``/1.0/<owner>/models/<name>[/<version>][/files/<file>]``) resolved in
    the local Fuel cache (``<cache>/<host>/<owner>/models/<name>/<version>/``, owner and name
    lower-cased as Gazebo stores them; the newest cached version unless one is given)."""
    hint = ('download the model and reference it with model:// and GZ_SIM_RESOURCE_PATH, or run '
            'the world once in Gazebo so that it fills the Fuel cache')
    parts = [p for p in path.split('/') if p]
    if len(parts) < 4 or parts[2] != 'models':
        raise ResourceNotFoundError(
            f'cannot resolve "{uri}": remote resources are not downloaded, and this is not a Fuel '
            f'model URL (https://fuel.gazebosim.org/1.0/<owner>/models/<name>); {hint}')
    owner, name, rest = parts[1].lower(), parts[3].lower(), parts[4:]
    version = None
    if rest and rest[0] != 'files':
        version, rest = rest[0], rest[1:]
        if version == 'tip':
            version = None
        elif not version.isdigit():
            raise ResourceNotFoundError(f'cannot resolve "{uri}": Fuel model version "{version}" '
                                        'is neither a number nor "tip"')
    if rest and rest[0] != 'files':
        raise ResourceNotFoundError(f'cannot resolve "{uri}": expected ".../files/<path>" after '
                                    'the Fuel model version')
    inside = Path(*rest[1:]) if len(rest) > 1 else None
    hosts = [host] + [h for h in FUEL_HOSTS if h != host] if host in FUEL_HOSTS else [host]
    checked: list[Path] = []
    missing: list[Path] = []
    for root in fuel_cache_roots():
        for server in hosts:
            model_dir = root / server / owner / 'models' / name
            checked.append(model_dir)
            cached = sorted((int(d.name) for d in model_dir.iterdir()
                             if d.is_dir() and d.name.isdigit()) if model_dir.is_dir() else [])
            chosen = int(version) if version is not None else (cached[-1] if cached else None)
            if chosen not in cached:
                continue
            target = model_dir / str(chosen)
            if inside is not None:
                target = target / inside
            if target.exists():
                return target
            missing.append(target)
    if missing:
        raise ResourceNotFoundError(
            f'cannot resolve "{uri}": the model is in the local Fuel cache, but '
            f'{", ".join(str(t) for t in missing)} does not exist')
    wanted = f'version {int(version)} of it' if version is not None else 'copy of it'
    raise ResourceNotFoundError(
        f'cannot resolve "{uri}": remote (Fuel) resources are not downloaded, and the local Fuel '
        f'cache has no {wanted} (looked in {", ".join(str(d) for d in checked)}; '
        f'set GZ_FUEL_CACHE_PATH if the cache is elsewhere); {hint}')


def _package_file(uri: str, package: str, relative: str, base_dir: Path | None) -> Path:
    """``package://package/relative``: in the package's share directory (ament index), or -
    for a package that is not installed - in a source checkout: this package's own tree, or
    an ancestor of the referring file's directory named after the package."""
    roots: list[Path] = []
    try:
        roots.append(package_share_directory(package))
    except ResourceNotFoundError as exc:
        not_installed = exc
    else:
        not_installed = None
    if package == PACKAGE_NAME:
        roots.append(share_directory())
    if base_dir is not None:
        roots += [d for d in (base_dir, *base_dir.parents) if d.name == package]
    for root in roots:
        candidate = root / relative
        if candidate.exists():
            return candidate
    if not roots and not_installed is not None:
        raise ResourceNotFoundError(f'cannot resolve "{uri}": {not_installed}')
    raise ResourceNotFoundError(f'cannot resolve "{uri}": "{relative}" is not in '
                                f'{", ".join(str(r) for r in roots)}')


def find_world(name_or_path: str) -> Path:
    """A world file from a path, or by name from this package's ``worlds/`` (``.sdf`` optional)."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    worlds = share_directory() / 'worlds'
    for candidate in (worlds / name_or_path, worlds / f'{name_or_path}.sdf'):
        if candidate.is_file():
            return candidate
    available = sorted(p.stem for p in worlds.glob('*.sdf')) if worlds.is_dir() else []
    raise ResourceNotFoundError(
        f'world "{name_or_path}" not found (not a file; shipped worlds: {", ".join(available)})')
