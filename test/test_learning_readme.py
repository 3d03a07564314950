"""The README's TwinNav example runs as printed and its controller reaches the goal."""

from pathlib import Path
import re
import subprocess
import sys

README = Path(__file__).resolve().parent.parent / 'README.md'


def test_the_readme_twinnav_example_runs() -> None:
    section = README.read_text(encoding='utf-8').split('### TwinNav:', 1)[1]
    code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    assert 'TwinNav-v0' in code
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120, cwd=README.parent)
    assert out.returncode == 0, out.stderr
    assert 'goal reached: True image (400, 400, 3)' in out.stdout, out.stdout
