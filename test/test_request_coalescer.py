"""RequestCoalescer: one request in flight, newest wins, counted, thread-safe."""

import threading
import time

import pytest

from twin_bridge.gazebo.request_coalescer import RequestCoalescer


class FakeTransport:
    """Records sent requests and keeps their ``done`` callbacks to answer later."""

    def __init__(self):
        self.sent = []
        self.done = []

    def __call__(self, request, done):
        self.sent.append(request)
        self.done.append(done)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_sends_immediately_when_idle_and_holds_while_in_flight():
    transport = FakeTransport()
    coalescer = RequestCoalescer(transport)
    assert coalescer.submit('a') is True
    assert coalescer.submit('b') is False
    assert transport.sent == ['a']
    stats = coalescer.stats
    assert stats.in_flight and stats.pending and stats.sent == 1


def test_latest_wins_and_older_pending_requests_are_counted_coalesced():
    transport = FakeTransport()
    coalescer = RequestCoalescer(transport)
    for request in range(6):  # 0 goes out, 1..5 arrive while it is in flight
        coalescer.submit(request)
    transport.done[0](True)
    assert transport.sent == [0, 5]
    transport.done[1](True)
    stats = coalescer.stats
    assert (stats.submitted, stats.sent, stats.coalesced, stats.succeeded) == (6, 2, 4, 2)
    assert not stats.in_flight and not stats.pending


def test_failed_response_is_counted_and_the_pending_request_still_goes_out():
    transport = FakeTransport()
    coalescer = RequestCoalescer(transport)
    coalescer.submit('a')
    coalescer.submit('b')
    transport.done[0](False)
    assert transport.sent == ['a', 'b']
    assert coalescer.stats.failed == 1


def test_a_second_answer_to_the_same_request_is_ignored():
    transport = FakeTransport()
    coalescer = RequestCoalescer(transport)
    coalescer.submit('a')
    transport.done[0](True)
    coalescer.submit('b')
    transport.done[0](True)  # late duplicate for 'a' must not end 'b'
    assert coalescer.stats.in_flight
    assert coalescer.stats.succeeded == 1


def test_unanswered_request_times_out_then_its_late_answer_is_ignored():
    transport, clock = FakeTransport(), FakeClock()
    coalescer = RequestCoalescer(transport, timeout=0.5, clock=clock)
    coalescer.submit('lost')
    coalescer.submit('waiting')
    clock.now += 0.4
    coalescer.poll()
    assert transport.sent == ['lost']  # not yet timed out
    clock.now += 0.2
    coalescer.poll()
    assert transport.sent == ['lost', 'waiting']
    transport.done[0](True)  # the lost one answers late: ignored
    stats = coalescer.stats
    assert stats.timed_out == 1 and stats.succeeded == 0 and stats.in_flight


def test_submit_after_timeout_supersedes_the_old_pending_request():
    transport, clock = FakeTransport(), FakeClock()
    coalescer = RequestCoalescer(transport, timeout=0.5, clock=clock)
    coalescer.submit('lost')
    coalescer.submit('old')
    clock.now += 1.0
    assert coalescer.submit('new') is True
    assert transport.sent == ['lost', 'new']
    stats = coalescer.stats
    assert stats.timed_out == 1 and stats.coalesced == 1 and not stats.pending


def test_send_error_counts_as_failure_and_does_not_block_later_requests():
    calls = []

    def flaky(request, done):
        calls.append(request)
        if request == 'boom':
            raise RuntimeError('service gone')
        done(True)

    coalescer = RequestCoalescer(flaky)
    coalescer.submit('boom')
    coalescer.submit('ok')
    assert calls == ['boom', 'ok']
    assert isinstance(coalescer.last_error, RuntimeError)
    stats = coalescer.stats
    assert stats.failed == 1 and stats.succeeded == 1 and not stats.in_flight


def test_synchronous_transport_answering_inside_send():
    sent = []
    coalescer = RequestCoalescer(lambda r, done: (sent.append(r), done(True)))
    for i in range(5):
        assert coalescer.submit(i) is True
    assert sent == [0, 1, 2, 3, 4]
    assert coalescer.stats.coalesced == 0


def test_close_drops_the_pending_request_and_refuses_new_ones():
    transport = FakeTransport()
    coalescer = RequestCoalescer(transport)
    coalescer.submit('a')
    coalescer.submit('b')
    coalescer.close()
    transport.done[0](True)
    assert coalescer.submit('c') is False
    assert transport.sent == ['a']
    assert coalescer.stats.dropped == 2


def test_rejects_a_non_positive_timeout():
    with pytest.raises(ValueError, match='timeout'):
        RequestCoalescer(FakeTransport(), timeout=0)


def test_threads_never_have_two_requests_in_flight_and_the_last_submitted_is_sent_last():
    in_flight = 0
    max_in_flight = 0
    sent = []
    guard = threading.Lock()
    answers = []
    final = ('final', 0)
    final_answered = threading.Event()

    def send(request, done):
        nonlocal in_flight, max_in_flight
        with guard:
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
            sent.append(request)

        def answer():
            nonlocal in_flight
            time.sleep(0.0005)  # the service's work: requests pile up meanwhile
            with guard:
                in_flight -= 1
            done(True)
            if request == final:
                final_answered.set()
        thread = threading.Thread(target=answer)
        answers.append(thread)
        thread.start()

    coalescer = RequestCoalescer(send, timeout=10.0)
    per_thread = 300

    def producer(tag):
        for i in range(per_thread):
            coalescer.submit((tag, i))

    producers = [threading.Thread(target=producer, args=(t,)) for t in range(4)]
    for thread in producers:
        thread.start()
    for thread in producers:
        thread.join()
    coalescer.submit(final)
    assert final_answered.wait(5.0), coalescer.stats  # the newest one goes out last
    for thread in list(answers):
        thread.join()
    stats = coalescer.stats
    assert not stats.in_flight and not stats.pending
    assert max_in_flight == 1
    assert sent[-1] == final
    assert stats.submitted == 4 * per_thread + 1
    assert stats.submitted == stats.sent + stats.coalesced
    assert stats.sent == stats.succeeded == len(sent)
    assert stats.sent < stats.submitted  # some were coalesced
