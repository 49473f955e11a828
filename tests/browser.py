"""A real browser for the tests: headless Chromium driven through chromedriver (W3C WebDriver).

Only the few WebDriver calls the tests need, over HTTP on the loopback
interface, with the standard library. :func:`chromium_problem` says why no
browser can run here (the tests then skip with that reason); ``make setup``
installs the Debian packages ``chromium`` and ``chromium-driver`` as root.
"""
from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

#: Flags for this kind of machine: no GPU, no sandbox inside a container, no network chatter.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_binary() -> str | None:
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def chromium_problem() -> str | None:
    """None when Chromium and chromedriver are installed; otherwise what is missing."""
    missing = [name for name, found in (("chromium", chromium_binary()), ("chromedriver", shutil.which("chromedriver"))) if not found]
    if missing:
        return f"{' and '.join(missing)} not installed (Debian: apt-get install chromium chromium-driver; `make setup` does it as root)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One headless Chromium session: ``open(url)``, ``run(script)``, ``screenshot(path)``, ``close()``."""

    def __init__(self, width: int = 1200, height: int = 1600):
        self.profile = tempfile.mkdtemp(prefix="rnnkit-chromium-")
        self.port = _free_port()
        self.driver = subprocess.Popen(
            [shutil.which("chromedriver"), f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.session = None
        try:
            self._wait_ready()
            options = {
                "binary": chromium_binary(),
                "args": [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}"],
            }
            answer = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
            self.session = answer["sessionId"]
        except BaseException:
            self.close()
            raise

    def _wait_ready(self, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if self._call("GET", "/status").get("ready"):
                    return
            except (OSError, urllib.error.URLError):
                pass
            if self.driver.poll() is not None:
                raise RuntimeError(f"chromedriver exited with code {self.driver.returncode}")
            time.sleep(0.1)
        raise RuntimeError("chromedriver did not become ready")

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}").get("value") or {}
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"WebDriver {method} {path}: {exc.read()[:500]!r}") from None

    def open(self, url: str) -> None:
        self._call("POST", f"/session/{self.session}/url", {"url": url})

    def run(self, script: str, *args):
        """Run ``script`` (a function body; ``arguments[i]`` are ``args``) in the page and return its value."""
        return self._call("POST", f"/session/{self.session}/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path: Path) -> Path:
        data = self._call("GET", f"/session/{self.session}/screenshot")
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    def close(self) -> None:
        if self.session:
            try:
                self._call("DELETE", f"/session/{self.session}")
            except (OSError, RuntimeError):
                pass
            self.session = None
        if self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
