"""demo.console: the progress line, the rate text and streams that survive a gone terminal."""

import io

from twin_bridge.demo.console import Progress, SafeStream, rate_text


def test_rate_text_waits_for_enough_messages_and_time():
    assert rate_text(1, 10.0) == '- Hz'
    assert rate_text(100, 0.1) == '- Hz'
    assert rate_text(100, 2.0) == '50 Hz'


def test_progress_writes_plain_lines_off_a_terminal():
    out = io.StringIO()
    progress = Progress(out, every_s=60.0)
    assert progress.due()
    progress.show('a')
    assert not progress.due()  # the next line only after every_s
    progress.done()
    assert progress.due()  # a new phase shows its first line at once
    assert out.getvalue() == 'a\n'


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_rewrites_one_line_on_a_terminal():
    out = _Terminal()
    progress = Progress(out)
    progress.show('a')
    progress.show('b')
    progress.done()
    progress.done()  # a second done adds nothing
    assert out.getvalue() == '\ra\x1b[K\rb\x1b[K\n'


class _Gone(io.StringIO):
    def isatty(self):
        raise ValueError('closed')

    def write(self, text):
        raise OSError(5, 'EIO')

    def flush(self):
        raise OSError(5, 'EIO')


def test_safe_stream_drops_output_to_a_gone_terminal():
    stream = SafeStream(_Gone())
    assert stream.isatty() is False
    stream.write('x')
    stream.flush()
    Progress(stream).show('still fine')
