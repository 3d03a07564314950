"""MQTT state -> twin -> ``/virtual/odom`` latency against a bare paho echo through the same
broker, measured in the same run.

A mosquitto broker (password auth, loopback) runs with ``twin_mqtt`` and a ``twin_bridge``
node under ``/robot1``. This process publishes, at ``--rate`` Hz each, (a) the robot's JSON
state (joints + pose, wall-clock stamp) on ``twin/robot1/state`` and (b) a stamped ping that a
bare paho client in another process echoes back through the broker. Measured: ``/virtual/odom``
receive time minus its header stamp (robot publish -> broker -> twin_mqtt -> DDS -> twin ->
DDS -> this process), the virtual odometry coming back as JSON on MQTT (the whole round
trip), and the echo's round trip (two broker hops, no ROS): the baseline. Both streams run at
the same time, so the machine's load hits both alike.

Targets (issue 14): MQTT state -> /virtual/odom p50 <= 5 ms, p99 <= 20 ms at 50 Hz.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import socket
import sys
import tempfile
import threading
import time

import numpy as np

# Run from a checkout: this process and the nodes it starts use the checkout's package.
REPO = Path(__file__).resolve().parent.parent
if (REPO / 'twin_bridge').is_dir():
    sys.path.insert(0, str(REPO))
    os.environ['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get('PYTHONPATH', '')) if p)

ROBOT, NAMESPACE = 'robot1', '/robot1'
PING, PONG = 'bench/ping', 'bench/pong'


def _bare_client(client_id: str, port: int, user: str, password: str):
    import paho.mqtt.client as mqtt
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.username_pw_set(user, password)
    client.on_socket_open = lambda c, u, sock: sock.setsockopt(socket.IPPROTO_TCP,
                                                               socket.TCP_NODELAY, 1)
    client.connect('127.0.0.1', port)
    return client


def run_echo(port: int, user: str, password_file: str) -> int:
    """The baseline's other end: a bare paho client republishing every ping as a pong."""
    password = Path(password_file).read_text().splitlines()[0]
    client = _bare_client('bench_echo', port, user, password)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(PING, qos=0)
    client.on_message = lambda c, u, msg: c.publish(PONG, msg.payload, qos=0)
    try:
        client.loop_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _figures(values_s: list[float]) -> dict[str, float]:
    a = np.asarray(values_s) * 1e3
    if not len(a):
        return {'n': 0, 'p50': float('nan'), 'p99': float('nan'), 'max': float('nan')}
    return {'n': len(a), 'p50': float(np.percentile(a, 50)), 'p99': float(np.percentile(a, 99)),
            'max': float(a.max())}


def measure(options: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Run everything, publish for ``options.seconds`` after a warm-up; the figures (ms)."""
    with tempfile.TemporaryDirectory(prefix='bench_mqtt_') as tmp:
        return _measure_in(Path(tmp), options)


def _measure_in(work: Path, options: argparse.Namespace) -> dict[str, dict[str, float]]:
    from nav_msgs.msg import Odometry

    from twin_bridge.demo.process_group import ProcessGroup, cpu_and_rss
    from twin_bridge.description.robot_description import (
        default_robot_path,
        load_robot_description,
    )
    from twin_bridge.mqtt.broker_settings import BrokerSettings
    from twin_bridge.mqtt.local_broker import (
        free_port,
        mosquitto_path,
        wait_for_port,
        write_broker_files,
    )
    from twin_bridge.mqtt.physical_robot_interface import PhysicalRobotInterface
    from twin_bridge.ros.private_context import PrivateContext
    from twin_bridge.ros.qos import qos_profile
    from twin_bridge.stand_in.motion_profiles import make_motion

    files = write_broker_files(work / 'broker', free_port())
    robot_desc = load_robot_description(default_robot_path())
    joints = [(j.name, j.lower, j.upper) for j in map(robot_desc.joint,
                                                      robot_desc.movable_joint_names)]
    motion = make_motion('figure_eight', joints, robot_desc.wheel_joint_names)
    latency = {'virtual_odom_ros': [], 'virtual_odom_mqtt': [], 'echo': []}
    measuring = threading.Event()
    with ProcessGroup(work / 'logs') as group:
        group.spawn('mosquitto', [mosquitto_path(), '-c', str(files.config)])
        if not wait_for_port('127.0.0.1', files.port, 10.0):
            raise RuntimeError('mosquitto did not start')
        login = {'broker_port': files.port, 'username': files.username,
                 'password_file': str(files.password_file)}
        group.spawn('echo', [sys.executable, __file__, '--echo', str(files.port),
                             files.username, str(files.password_file)])
        bridge = group.spawn_node('twin_mqtt', 'twin_bridge.ros.mqtt_bridge_node',
                                  {**login, 'robots': [ROBOT]})
        twin = group.spawn_node('twin_bridge', 'twin_bridge.ros.bridge_node',
                                {'drift_check': False, 'prediction_rate': 0.0,
                                 'ensemble_rate': 0.0, 'gate': False},
                                ros_args=['-r', f'__ns:={NAMESPACE}'])

        def on_virtual(stream: str, sample: object) -> None:
            if stream == 'odom' and measuring.is_set():
                latency['virtual_odom_mqtt'].append((time.time_ns() - sample.stamp_ns) * 1e-9)

        def on_pong(client: object, userdata: object, msg: object) -> None:
            if measuring.is_set():
                latency['echo'].append((time.time_ns() - int(msg.payload)) * 1e-9)

        ros_seen = []  # the observer is matched once it got one (a reader joining late
        # misses what came before: volatile durability)

        def on_odom(msg: Odometry) -> None:
            ros_seen[:] = [True]
            if measuring.is_set():
                stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
                latency['virtual_odom_ros'].append((time.time_ns() - stamp) * 1e-9)

        settings = BrokerSettings(port=files.port, username=files.username,
                                  password_file=str(files.password_file))
        pinger = _bare_client('bench_ping', files.port, files.username, files.password)
        pinger.on_connect = lambda c, u, f, rc, p: c.subscribe(PONG, qos=0)
        pinger.on_message = on_pong
        pinger.loop_start()
        with (PrivateContext('bench_mqtt_observer') as ros,
              PhysicalRobotInterface(ROBOT, settings, on_virtual=on_virtual) as robot):
            ros.node.create_subscription(Odometry, f'{NAMESPACE}/virtual/odom', on_odom,
                                         qos_profile('reliable', 100))
            robot.connect(10.0)
            period, start = 1.0 / options.rate, time.monotonic()
            warm_until = None
            k = 0
            while True:
                now = time.monotonic()
                if warm_until is None and robot.received['odom'] > 0 and ros_seen:
                    warm_until = now + options.warmup
                if warm_until is not None and now >= warm_until and not measuring.is_set():
                    measuring.set()
                    cpu_start = {p.name: cpu_and_rss(p.pid) for p in (bridge, twin)}
                    measure_start = now
                if measuring.is_set() and now - measure_start >= options.seconds:
                    break
                if now - start > options.startup_timeout and warm_until is None:
                    raise RuntimeError(f'no virtual odometry in {options.startup_timeout} s:\n'
                                       f'{bridge.tail()}\n{twin.tail()}')
                t = k * period
                stamp = time.time_ns()
                robot.publish_state(motion.joint_state(t, stamp), motion.odometry(t, stamp),
                                    stamp)
                pinger.publish(PING, str(time.time_ns()).encode(), qos=0)
                k += 1
                deadline = start + k * period
                while (left := deadline - time.monotonic()) > 0:
                    ros.spin_once(min(left, 0.005))
            elapsed = time.monotonic() - measure_start
            usage = {p.name: cpu_and_rss(p.pid) for p in (bridge, twin)}
            ros.spin_for(0.3)  # what is still in flight counts too
            measuring.clear()
        pinger.loop_stop()
        pinger.disconnect()
    result = {name: _figures(values) for name, values in latency.items()}
    for name, (cpu, rss) in usage.items():
        result[f'{name}_usage'] = {'cpu_percent': 100 * (cpu - cpu_start[name][0]) / elapsed,
                                   'rss_mb': rss / 2**20}
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures, ratios and target verdicts."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seconds', type=float, default=20.0, help='seconds measured')
    parser.add_argument('--rate', type=float, default=50.0, help='state (and ping) rate, Hz')
    parser.add_argument('--warmup', type=float, default=2.0,
                        help='seconds of flowing state before measuring')
    parser.add_argument('--startup-timeout', type=float, default=60.0)
    parser.add_argument('--echo', nargs=3, metavar=('PORT', 'USER', 'PASSWORD_FILE'),
                        help=argparse.SUPPRESS)  # the echo process's own mode
    options = parser.parse_args(argv)
    if options.echo:
        return run_echo(int(options.echo[0]), options.echo[1], options.echo[2])
    try:
        r = measure(options)
    except RuntimeError as exc:
        print(f'bench_mqtt: {exc}', file=sys.stderr)
        return 1
    echo, ros, mqtt = r['echo'], r['virtual_odom_ros'], r['virtual_odom_mqtt']
    print(f'{options.rate:g} Hz for {options.seconds:g} s (ms):')
    print(f'  bare paho echo (2 broker hops)          n={echo["n"]:5d} p50 {echo["p50"]:6.2f} '
          f'p99 {echo["p99"]:6.2f} max {echo["max"]:6.2f}')
    print(f'  MQTT state -> /virtual/odom (ROS)       n={ros["n"]:5d} p50 {ros["p50"]:6.2f} '
          f'p99 {ros["p99"]:6.2f} max {ros["max"]:6.2f}  '
          f'(x{ros["p50"] / echo["p50"]:.2f} / x{ros["p99"] / echo["p99"]:.2f} the echo)')
    print(f'  ... and back as JSON on MQTT (round trip) n={mqtt["n"]:5d} p50 {mqtt["p50"]:6.2f} '
          f'p99 {mqtt["p99"]:6.2f} max {mqtt["max"]:6.2f}  '
          f'(x{mqtt["p50"] / echo["p50"]:.2f} / x{mqtt["p99"] / echo["p99"]:.2f} the echo)')
    for name in ('twin_mqtt', 'twin_bridge'):
        usage = r[f'{name}_usage']
        print(f'  {name}: {usage["cpu_percent"]:.1f} % of a core, {usage["rss_mb"]:.0f} MB RSS')
    p50_ok, p99_ok = ros['p50'] <= 5.0, ros['p99'] <= 20.0
    print(f'target p50 <= 5 ms: {"met" if p50_ok else "MISSED"}; '
          f'p99 <= 20 ms: {"met" if p99_ok else "MISSED"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
