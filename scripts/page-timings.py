#!/usr/bin/env python3
"""Cold loads of pages in headless Chromium, timed by the page's own Performance API.

    scripts/page-timings.py BASE_URL COOKIE PATH... [--loads N]

Each load is a new Chromium with an empty profile (nothing cached): it is given the
session COOKIE (`name=value`) on a plain-text answer of the site, then opens PATH and
waits for `body[data-hydrated]`. Printed per path, the median of N loads (default 10):
time to first byte, to DOMContentLoaded, and to hydrated (the bundle's `skalin:hydrated`
mark, set once the page's handlers are in place: the first moment a click is handled),
and the WASM bytes on the wire. Talks WebDriver to chromedriver over plain HTTP, so it
needs nothing but Python, chromium and chromedriver (`make test` installs both).
"""
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

MEASURE = """
const nav = performance.getEntriesByType('navigation')[0];
const hydrated = performance.getEntriesByName('skalin:hydrated')[0];
const wasm = performance.getEntriesByType('resource').find(r => r.name.endsWith('.wasm'));
return {
  ttfb: nav.responseStart,
  dcl: nav.domContentLoadedEventEnd,
  hydrated: hydrated ? hydrated.startTime : null,
  wasm_wire: wasm ? wasm.transferSize : null,
  wasm_decoded: wasm ? wasm.decodedBodySize : null,
};
"""


# The moment a poll first sees the page hydrated, for builds without the mark.
SEEN = "return document.body && 'hydrated' in document.body.dataset ? performance.now() : null;"


def call(driver, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(driver + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null").get("value")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_load(driver, base, cookie, path):
    profile = tempfile.mkdtemp(prefix="skalin-timings-")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--window-size=1280,900", f"--user-data-dir={profile}"]
    # Eager: navigation returns at DOMContentLoaded, so that polling starts before hydration.
    caps = {"capabilities": {"alwaysMatch": {"pageLoadStrategy": "eager", "goog:chromeOptions": {"args": args}}}}
    session = call(driver, "POST", "/session", caps)["sessionId"]
    try:
        name, value = cookie.split("=", 1)
        call(driver, "POST", f"/session/{session}/url", {"url": base + "/healthz"})
        call(driver, "POST", f"/session/{session}/cookie", {"cookie": {"name": name, "value": value}})
        call(driver, "POST", f"/session/{session}/url", {"url": base + path})
        deadline = time.time() + 30
        seen = None
        while seen is None:
            seen = call(driver, "POST", f"/session/{session}/execute/sync", {"script": SEEN, "args": []})
            if time.time() > deadline:
                raise SystemExit(f"{path} never hydrated")
            if seen is None:
                time.sleep(0.02)
        timing = call(driver, "POST", f"/session/{session}/execute/sync", {"script": MEASURE, "args": []})
        if timing["hydrated"] is None:
            # A build older than the mark: the first poll that saw the page hydrated
            # (a little late, by up to one poll).
            timing["hydrated"] = seen
            timing["polled"] = True
        return timing
    finally:
        call(driver, "DELETE", f"/session/{session}")


def main():
    argv = sys.argv[1:]
    loads = 10
    if "--loads" in argv:
        i = argv.index("--loads")
        loads = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) < 3:
        raise SystemExit(__doc__)
    base, cookie, paths = argv[0].rstrip("/"), argv[1], argv[2:]
    port = free_port()
    chromedriver = subprocess.Popen(["chromedriver", f"--port={port}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                call(driver, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        for path in paths:
            timings = [cold_load(driver, base, cookie, path) for _ in range(loads)]
            med = lambda key: statistics.median(t[key] for t in timings)
            polled = " (seen by polling: this build sets no mark)" if timings[0].get("polled") else ""
            print(f"{path}: median of {loads} cold loads: first byte {med('ttfb'):.0f} ms, "
                  f"DOMContentLoaded {med('dcl'):.0f} ms, hydrated {med('hydrated'):.0f} ms{polled} "
                  f"(slowest {max(t['hydrated'] for t in timings):.0f} ms); "
                  f"WASM {med('wasm_wire') / 1024:.0f} KiB on the wire, {med('wasm_decoded') / 1024:.0f} KiB decoded")
    finally:
        chromedriver.terminate()


if __name__ == "__main__":
    main()
