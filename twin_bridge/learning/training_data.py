"""The seed's ``SyntheticDataGenerator`` and ``AITrainingPipeline.collect_training_data``,
as thin, working calls over the synthetic lidar generator and the noise fit.

The seed randomized lighting and textures: those belong to cameras, and the twin's robot
has a lidar, not a camera. What changes a lidar's view is randomized instead: the robot's
pose, where obstacles stand, and the range noise (drawn from ranges, or fitted to the
physical robot's recording).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin_bridge.learning.noise_fit import NoiseFit, fit_lidar_noise_from_bag
from twin_bridge.learning.sensor_noise import LidarNoise
from twin_bridge.learning.synthetic_cli import DatasetResult, write_dataset
from twin_bridge.learning.synthetic_config import (
    NoiseRanges,
    SyntheticConfig,
    load_synthetic_config,
)
from twin_bridge.learning.synthetic_data import LabelledScan, SyntheticScanGenerator

__all__ = ['AITrainingPipeline', 'SyntheticDataGenerator', 'TrainingData']


class SyntheticDataGenerator:
    """Labelled lidar scans from the twin (the seed's class; lidar, not camera: see the
    module doc).

    :param config: a :class:`SyntheticConfig`, a mapping of its YAML keys, or a YAML path
        (default: the warehouse with the package's robot)
    :raise ConfigError: a bad config, naming the key
    """

    def __init__(self, config: SyntheticConfig | Mapping[str, Any] | str | Path | None = None
                 ) -> None:
        if config is None:
            config = SyntheticConfig()
        elif isinstance(config, (str, Path)):
            config = load_synthetic_config(config)
        elif not isinstance(config, SyntheticConfig):
            config = SyntheticConfig.from_mapping(config)
        self.config = config

    def with_noise(self, noise: LidarNoise) -> SyntheticDataGenerator:
        """The same generator with a fixed lidar noise model (e.g. a fitted one)."""
        return SyntheticDataGenerator(self.config.replace(noise=NoiseRanges.fixed(noise)))

    def generate_training_data(self, scenario_count: int = 1000, *, seed: int | None = None
                               ) -> list[LabelledScan]:
        """``scenario_count`` samples in memory (scan, pose, per-beam model/link labels).

        :param seed: overrides the config's seed
        """
        changes: dict[str, Any] = {'samples': int(scenario_count)}
        if seed is not None:
            changes['seed'] = int(seed)
        config = self.config.replace(**changes)
        return list(SyntheticScanGenerator(config))

    def write_training_data(self, scenario_count: int, *, mcap: str | Path | None = None,
                            parquet: str | Path | None = None,
                            progress: bool = False) -> DatasetResult:
        """Write ``scenario_count`` samples as a ROS 2 MCAP bag and/or a Parquet file."""
        return write_dataset(self.config.replace(samples=int(scenario_count)), mcap=mcap,
                             parquet=parquet, progress=progress)


@dataclass(frozen=True)
class TrainingData:
    """What :meth:`AITrainingPipeline.collect_training_data` collected: the data set files,
    the sample count, and the noise fit to the physical recording (``None``: none given)."""

    parquet: Path
    mcap: Path
    samples: int
    noise_fit: NoiseFit | None


class AITrainingPipeline:
    """Collects training data from the twin, matched to the physical robot's lidar.

    :param generator: the synthetic data generator (default: warehouse, package robot)
    """

    def __init__(self, generator: SyntheticDataGenerator | None = None) -> None:
        self.generator = generator or SyntheticDataGenerator()

    def collect_training_data(self, output_dir: str | Path, samples: int = 1000, *,
                              physical_bag: str | Path | None = None,
                              progress: bool = False) -> TrainingData:
        """Write ``samples`` labelled scans to ``output_dir`` (``synthetic.parquet`` and the
        bag folder ``synthetic_bag``).

        With ``physical_bag`` (a recording of the physical robot: joint states, odometry,
        scans), the lidar noise is first fitted to it through the twin
        (:func:`fit_lidar_noise_from_bag`, in the generator's world and robot) and the
        synthetic scans carry that noise; otherwise the config's noise ranges apply.

        :raise BagError: an unreadable bag; :raise ConfigError: a bad config
        """
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        generator, fit = self.generator, None
        if physical_bag is not None:
            cfg = generator.config
            fit = fit_lidar_noise_from_bag(physical_bag, cfg.world, cfg.robot)
            generator = generator.with_noise(fit.noise)
        result = generator.write_training_data(samples, mcap=out / 'synthetic_bag',
                                               parquet=out / 'synthetic.parquet',
                                               progress=progress)
        return TrainingData(out / 'synthetic.parquet', out / 'synthetic_bag', result.count,
                            fit)
