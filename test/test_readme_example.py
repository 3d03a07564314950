"""The README's DigitalTwin example runs as printed, with no ROS."""

from pathlib import Path
import re
import subprocess
import sys

README = Path(__file__).resolve().parent.parent / 'README.md'


def test_the_readme_digital_twin_example_runs():
    text = README.read_text(encoding='utf-8')
    section = text.split('### The twin as a Python object', 1)[1]
    code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    assert 'DigitalTwin' in code and len(code.strip().splitlines()) <= 20
    check = "\nimport sys\nassert 'rclpy' not in sys.modules, 'the example pulled in rclpy'\n"
    out = subprocess.run([sys.executable, '-c', code + check], capture_output=True, text=True,
                         timeout=120, cwd=README.parent)
    assert out.returncode == 0, out.stderr
    assert 'twin at [0.594' in out.stdout
    assert "'pose': 'OK'" in out.stdout and 'in 1 s at' in out.stdout
