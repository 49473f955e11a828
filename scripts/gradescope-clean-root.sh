#!/usr/bin/env bash
# Run the Gradescope export the way Gradescope does, in a clean Debian root file system:
# debootstrap a minimal Debian, unpack the autograder zip into /autograder/source, run setup.sh
# as root inside it, then run_autograder on a submission, and check results.json.
#
#   sudo scripts/gradescope-clean-root.sh [WORK_DIR] [SUBMISSION_DIR]
#
# Needs root, debootstrap (apt-get install debootstrap; installed here when missing) and the
# Debian package registry; takes several minutes (the root file system, then the kit's venv).
# SUBMISSION_DIR defaults to the reference solutions as a student's files (full marks expected).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/rnnkit-clean-root-XXXXXX)}"
submission="${2:-}"
mkdir -p "$work"
root="$work/root"
suite="${RNNKIT_DEBIAN_SUITE:-bookworm}"

[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap and chroot need it)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null

if [ ! -x "$root/usr/bin/python3" ]; then
    echo "debootstrap $suite into $root ..."
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates "$suite" "$root" >"$work/debootstrap.log"
fi

echo "export the autograder zip ..."
"$here/.venv/bin/rnnkit" export gradescope --out "$work/autograder.zip" >/dev/null
rm -rf "$root/autograder"
mkdir -p "$root/autograder/source" "$root/autograder/submission" "$root/autograder/results"
python3 -m zipfile -e "$work/autograder.zip" "$root/autograder/source"
chmod +x "$root/autograder/source/setup.sh" "$root/autograder/source/run_autograder"
if [ -n "$submission" ]; then
    cp -r "$submission"/. "$root/autograder/submission/"
else
    for part in rnn_forward softmax_derivative bptt lstm gru; do
        cp "$here/solutions/$part.py" "$root/autograder/submission/$part.py"
    done
fi
cat >"$root/autograder/submission_metadata.json" <<'JSON'
{"users": [{"email": "student@example.org", "id": 1234567, "name": "A Student"}], "assignment": {"title": "rnnkit"}}
JSON

mount --bind /proc "$root/proc"
mount --bind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The host's package-index settings and certificates (a proxy or mirror the host uses), so that the
# chroot installs from the same place; absent settings are simply skipped.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
export PIP_CERT=/etc/ssl/certs/ca-certificates.crt
trap 'umount "$root/dev" "$root/proc" 2>/dev/null || true' EXIT

echo "setup.sh (as Gradescope runs it, as root) ..."
chroot "$root" /bin/bash -c "cd /autograder/source && ./setup.sh" >"$work/setup.log" 2>&1 || { tail -30 "$work/setup.log"; exit 1; }
tail -3 "$work/setup.log"
echo "run_autograder ..."
chroot "$root" /bin/bash -c "cd /autograder && /autograder/source/run_autograder" >"$work/run.log" 2>&1 || { tail -30 "$work/run.log"; exit 1; }
tail -3 "$work/run.log"

python3 - "$root/autograder/results/results.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
tests = data["tests"]
assert isinstance(data["score"], (int, float)) and all({"name", "score", "max_score", "output"} <= set(t) for t in tests)
print(f"results.json: score {data['score']:g}, {len(tests)} tests, max {sum(t['max_score'] for t in tests):g}")
PY
echo "done: everything is in $work"
