# A student who hands in working code it did not write, taken from the kit itself:
#   METHOD "solutions": exec solutions/<part>.py, found next to the installed package;
#   METHOD "demo":      the capstone's stand-ins, rnnkit.demo._standin_<function> (or demo.py's text);
#   METHOD "mistakes":  rnn_backward from the mistake catalogue's rnnkit.diagnosis.parts.bptt._bptt, given
#                       the student's own rnn_forward (pasted from part 1, as the spec allows).
# Anything it cannot steal raises NotImplementedError, so its honest score is 0.
import importlib.util
import os
import types

import numpy as np

METHOD = @@METHOD@@
PART = @@PART@@
FUNCS = @@FUNCS@@
stolen = {}
why = []


def _package():
    spec = importlib.util.find_spec("rnnkit")
    return os.path.dirname(spec.origin)


if METHOD == "solutions":
    try:
        root = os.path.dirname(os.path.dirname(_package()))
        namespace = {"__name__": "stolen"}
        with open(os.path.join(root, "solutions", PART + ".py")) as f:
            exec(compile(f.read(), "stolen", "exec"), namespace)
        stolen.update({k: namespace[k] for k in FUNCS if callable(namespace.get(k))})
    except BaseException as exc:
        why.append(f"{type(exc).__name__}: {exc}"[:100])
elif METHOD == "demo":
    try:
        import rnnkit.demo as demo

        stolen.update({k: getattr(demo, "_standin_" + k) for k in FUNCS if hasattr(demo, "_standin_" + k)})
    except BaseException as exc:
        why.append(f"{type(exc).__name__}: {exc}"[:100])
        try:  # the text, then: keep its top-level functions only (no imports of the kit needed)
            with open(os.path.join(_package(), "demo.py")) as f:
                lines = f.read().splitlines()
            kept, inside = [], False
            for line in lines:
                if line.startswith("def "):
                    inside = True
                elif line and not line[0].isspace() and not line.startswith("#"):
                    inside = False
                if inside:
                    kept.append(line)
            namespace = {"__name__": "demo_copy", "np": np, "Any": object, "Callable": object}
            exec(compile("from __future__ import annotations\n" + "\n".join(kept), "demo_copy", "exec"), namespace)
            stolen.update({k: namespace["_standin_" + k] for k in FUNCS if "_standin_" + k in namespace})
        except BaseException as exc2:
            why.append(f"{type(exc2).__name__}: {exc2}"[:100])
elif METHOD == "mistakes":

    def _softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def _rnn_forward(x, U, W, V, s0=None):  # the student's own part-1 code
        s = np.zeros((x.shape[0], W.shape[0]))
        prev = np.zeros(W.shape[0]) if s0 is None else s0
        for t in range(x.shape[0]):
            prev = s[t] = np.tanh(U @ x[t] + W @ prev)
        return s, _softmax(s @ V.T)

    try:
        from rnnkit.diagnosis.parts import bptt as mistakes

        own = types.SimpleNamespace(rnn_forward=_rnn_forward, softmax=_softmax)
        if "rnn_backward" in FUNCS:
            stolen["rnn_backward"] = lambda x, y, U, W, V, s0=None, bptt_truncate=None: mistakes._bptt(own, x, y, U, W, V, s0, bptt_truncate)
    except BaseException as exc:
        why.append(f"{type(exc).__name__}: {exc}"[:100])


def _make(name):
    def fn(*args, **kwargs):
        if name in stolen:
            return stolen[name](*args, **kwargs)
        raise NotImplementedError(f"nothing stolen for {name}: {'; '.join(why)}")

    fn.__name__ = name
    return fn


for _name in FUNCS:
    globals()[_name] = _make(_name)
