"""Values as plain data: round trips, and untrusted bytes that must be refused."""
from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.worker import calls


@pytest.mark.parametrize(
    "value",
    [
        np.array(3.0),
        np.float32(2.5),
        np.arange(6, dtype=np.int64).reshape(2, 3),
        np.ones((3, 2), dtype=np.float32).T,
        (np.zeros(2), [1, 2.5, None, True], {"W": np.eye(3)}),
    ],
)
def test_values_round_trip_with_their_shapes_and_dtypes(value):
    back = calls.from_bytes(calls.to_bytes(*calls.encode(value)))

    def same(a, b):
        if isinstance(a, np.ndarray):
            assert isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
        elif isinstance(a, (tuple, list)):
            assert type(a) is type(b) and len(a) == len(b)
            for x, y in zip(a, b):
                same(x, y)
        elif isinstance(a, dict):
            assert set(a) == set(b)
            for k in a:
                same(a[k], b[k])
        else:
            assert a == b

    same(value, back)


def test_a_probe_travels_by_name_and_is_rebuilt():
    probe = calls.Probe("weighted_sines", {"c": np.array([1.0, 2.0])})
    f = calls.from_bytes(calls.to_bytes(*calls.encode(probe)))
    x = np.array([0.3, -0.2])
    assert f(x) == pytest.approx(float(np.sum([1.0, 2.0] * np.sin(x)) + np.sum(x**3) / 3))


@pytest.mark.parametrize("bad", [np.array(["a"]), np.array([object()], dtype=object), object(), {1: np.zeros(1)}, 1 + 2j])
def test_values_that_are_not_plain_numbers_are_refused(bad):
    with pytest.raises(calls.EncodingError):
        calls.encode(bad)


def test_untrusted_bytes_never_unpickle():
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    buffer = io.BytesIO()
    np.savez(buffer, a0=np.array([Boom()], dtype=object), __skeleton__=np.frombuffer(b'{"a": 0}', dtype=np.uint8))
    for data in (buffer.getvalue(), pickle.dumps(Boom()), b"garbage", b""):
        with pytest.raises(calls.EncodingError):
            calls.from_bytes(data)


@pytest.mark.parametrize("skeleton", [{"a": 5}, {"x": 1}, {"t": "no"}, {"p": "os.system", "args": {}}, {"f": "1e999x"}, [1, 2]])
def test_malformed_skeletons_are_refused(skeleton):
    with pytest.raises(calls.EncodingError):
        calls.decode(skeleton, [np.zeros(1)])


def test_frames_before_garbage_in_one_chunk_are_all_given_out():
    """A worker may write many frames, then garbage, before the grader reads: the frames still count."""
    from rnnkit.worker import frames

    good = [({"event": "case", "case": n}, b"x" * n) for n in range(3)]
    chunk = b"".join(frames.encode_frame(h, p) for h, p in good) + b"\xff" * 64 + b"garbage"
    parser = frames.FrameParser(lambda header: 16)
    seen = []
    with pytest.raises(frames.ProtocolError):
        for frame in parser.feed(chunk):
            seen.append(frame)
    assert seen == good


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=12), st.lists(st.integers(1, 400), max_size=10))
def test_frames_come_out_whole_however_the_bytes_are_cut(payloads, cuts):
    from rnnkit.worker import frames

    sent = [({"event": "case", "case": n}, payload) for n, payload in enumerate(payloads)]
    stream = b"".join(frames.encode_frame(h, p) for h, p in sent)
    bounds = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    parser = frames.FrameParser(lambda header: 40)
    seen = [frame for a, b in zip(bounds, bounds[1:]) for frame in parser.feed(stream[a:b])]
    assert seen == sent and not parser.buffer


def test_inputs_give_each_function_its_scored_cases_then_its_probes():
    def blob(cases):
        return calls.to_bytes(*calls.encode({"cases": cases}))

    scored = {"f": [(np.arange(3.0),), (np.ones((2, 2)), 1e-4)], "g": [(np.zeros(2),)]}
    probes = {"f": [(np.full(4, 7.0),)], "unknown": [(np.zeros(1),)]}
    cases = calls.unpack_inputs(calls.pack_inputs(blob(scored), blob(probes)))
    assert list(cases) == ["f", "g"]  # a probe of a function the task does not call is dropped
    assert [len(c) for c in cases.values()] == [3, 1]
    np.testing.assert_array_equal(cases["f"][1][0], np.ones((2, 2)))
    assert cases["f"][1][1] == 1e-4
    np.testing.assert_array_equal(cases["f"][2][0], np.full(4, 7.0))
    assert not cases["f"][0][0].flags.writeable  # views of the sealed inputs: each call gets a copy
    assert calls.copy_value(cases["f"][0])[0].flags.writeable
