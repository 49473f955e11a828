# A student who leaves things behind: files and folders in every world-writable place it can
# find (/tmp, /dev/shm, /var/tmp, $TMPDIR, $HOME), at load time and in every call; its real
# code is a correct softmax.
import os
import tempfile

import numpy as np

MARK = @@MARK@@


def _litter(tag):
    places = ["/tmp", "/dev/shm", "/var/tmp", tempfile.gettempdir(), os.environ.get("TMPDIR", "/tmp"), os.path.expanduser("~")]
    for place in places:
        try:
            with open(os.path.join(place, f"{MARK}-{tag}-file"), "w") as f:
                f.write("left behind")
        except OSError:
            pass
        try:
            os.makedirs(os.path.join(place, f"{MARK}-{tag}-dir", "inner"), exist_ok=True)
            with open(os.path.join(place, f"{MARK}-{tag}-dir", "inner", "f"), "w") as f:
                f.write("x")
        except OSError:
            pass


_litter("load")


def softmax(z):
    _litter("call")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
