"""``twin_synth``: write N labelled synthetic lidar samples as MCAP and/or Parquet."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
import signal
import sys
import threading

from twin_bridge.errors import ConfigError, TwinBridgeError
from twin_bridge.learning.synthetic_config import SyntheticConfig, load_synthetic_config
from twin_bridge.learning.synthetic_data import LabelledScan, SyntheticScanGenerator
from twin_bridge.learning.synthetic_writers import McapSampleWriter, ParquetSampleWriter

__all__ = ['DatasetResult', 'main', 'parse_args', 'write_dataset']


@dataclass(frozen=True)
class DatasetResult:
    """What :func:`write_dataset` wrote: ``count`` samples (fewer than asked if
    ``interrupted``) to ``mcap`` and/or ``parquet``."""

    count: int
    mcap: Path | None
    parquet: Path | None
    interrupted: bool = False


def write_dataset(config: SyntheticConfig, *, mcap: str | Path | None = None,
                  parquet: str | Path | None = None, progress: bool = False,
                  on_sample: Callable[[LabelledScan], None] | None = None) -> DatasetResult:
    """Generate ``config.samples`` samples and write them; Ctrl-C stops after the current
    sample and still closes both files (valid, with what was written): ``interrupted``.

    :param mcap: a new bag folder (``None``: no bag)
    :param parquet: a ``.parquet`` file (``None``: none)
    :param progress: show a tqdm progress bar (on stderr)
    :param on_sample: also called with every sample
    :raise ConfigError: a bad config or no output named
    """
    if mcap is None and parquet is None and on_sample is None:
        raise ConfigError('no output: give an MCAP folder and/or a Parquet file')
    generator = SyntheticScanGenerator(config)
    info, targets = generator.describe(), generator.targets
    writers: list[McapSampleWriter | ParquetSampleWriter] = []
    written = 0
    with _DeferredInterrupt() as stop:
        try:
            if mcap is not None:
                writers.append(McapSampleWriter(mcap, info, targets))
            if parquet is not None:
                writers.append(ParquetSampleWriter(parquet, info, targets))
            bar = None
            if progress:
                from tqdm import tqdm
                bar = tqdm(total=config.samples, unit='scan', file=sys.stderr)
            for sample in generator:
                for writer in writers:
                    writer.write(sample)
                if on_sample is not None:
                    on_sample(sample)
                written += 1
                if bar is not None:
                    bar.update(1)
                if stop.requested:
                    break
            if bar is not None:
                bar.close()
        finally:
            for writer in writers:
                writer.close()
    return DatasetResult(written, Path(mcap) if mcap is not None else None,
                         Path(parquet) if parquet is not None else None, stop.requested)


class _DeferredInterrupt:
    """Within the block, SIGINT (Ctrl-C) sets :attr:`requested` instead of raising, so a
    sample is never half written; a second Ctrl-C raises as usual. A no-op off the main
    thread (signal handlers can only be set there)."""

    def __init__(self) -> None:
        self.requested = False
        self._installed = False
        self._previous: object = None

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]


def parse_args(argv: list[str]) -> argparse.Namespace:
    """``twin_synth``'s arguments. :raise SystemExit: on ``--help`` or bad arguments"""
    parser = argparse.ArgumentParser(
        prog='twin_synth',
        description='Write labelled synthetic lidar scans from the twin: robot poses drawn in '
                    'free space, obstacles moved within bounds, lidar noise, and per beam '
                    'the SDF model and link it hit. Outputs: a ROS 2 MCAP bag (/scan, '
                    '/scan_exact, /pose, /labels) and/or a Parquet table (one row per scan).')
    parser.add_argument('--config', type=Path, default=None,
                        help='YAML config (see config/synthetic_data.yaml)')
    parser.add_argument('-n', '--samples', type=int, default=None, help='overrides the config')
    parser.add_argument('--seed', type=int, default=None, help='overrides the config')
    parser.add_argument('--world', default=None, help='overrides the config')
    parser.add_argument('--robot', default=None, help='overrides the config')
    parser.add_argument('--mcap', type=Path, default=None, help='bag folder to write')
    parser.add_argument('--parquet', type=Path, default=None, help='.parquet file to write')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    ns = parser.parse_args(argv)
    if ns.mcap is None and ns.parquet is None:
        parser.error('give --mcap FOLDER and/or --parquet FILE')
    if ns.samples is not None and ns.samples < 1:
        parser.error('--samples must be >= 1')
    if ns.seed is not None and ns.seed < 0:
        parser.error('--seed must be >= 0')
    return ns


def main(args: list[str] | None = None) -> int:
    """Generate and write. :return: 0; 1 on a bad config or output; 130 when interrupted"""
    ns = parse_args(sys.argv[1:] if args is None else list(args))
    try:
        config = load_synthetic_config(ns.config) if ns.config else SyntheticConfig()
        overrides = {k: v for k, v in (('samples', ns.samples), ('seed', ns.seed),
                                       ('world', ns.world), ('robot', ns.robot))
                     if v is not None}
        config = config.replace(**overrides)
        result = write_dataset(config, mcap=ns.mcap, parquet=ns.parquet,
                               progress=not ns.no_progress)
    except (TwinBridgeError, OSError) as exc:
        print(f'twin_synth: {exc}', file=sys.stderr)
        return 1
    outputs = ', '.join(str(p) for p in (result.mcap, result.parquet) if p is not None)
    if result.interrupted:
        print(f'twin_synth: interrupted; {result.count} samples written to {outputs} '
              '(files closed and valid)', file=sys.stderr)
        return 130
    print(f'{result.count} samples written to {outputs}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
