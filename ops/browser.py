#!/usr/bin/env python3
"""Loads pages in a real headless Chromium through the DevTools protocol and reports, per
page: the HTTP status, console errors and uncaught exceptions, the titles of the SVG charts,
and (with --screenshots DIR) a full-page PNG. Used by the dashboard's browser test and by
ops/screenshots. Prints one JSON document on standard output.

  ops/browser.py --base http://127.0.0.1:8080 --cookie xyd_session=TOKEN /dashboard /dashboard/model

With --steps FILE it walks a script instead, as a person would (the portal's browser test):
a JSON list of steps, each one of
  {"go": "/path"}                      load a page
  {"fill": "CSS", "value": "text"}     type into a field (or choose an option of a select)
  {"fill": "CSS", "totp": "BASE32", "after": STEP}
                                       type the TOTP code an authenticator app shows for that
                                       secret now (RFC 6238), for a step later than STEP and than
                                       any this walk typed before (waiting for it if need be)
  {"check": "CSS"}                     tick a checkbox
  {"click": "CSS"}                     click (a link or a submit button) and wait for the page
  {"tap": "CSS"}                       click something that does not load a page (a <summary>)
  {"expect_text": "text"}              the page's text contains it
  {"expect_path": "/prefix"}           the page's path starts with it
  {"expect_status": 200}               the last page loaded had this HTTP status
  {"eval": "JS", "equals": value}      a JavaScript expression's value (checks, not actions)
  {"width": 390}                       the window's width from now on (a phone)
  {"shot": "name"}                     a screenshot (with --screenshots DIR)
It stops at the first step that fails; every page loaded is checked for console errors.
"""
import argparse, base64, json, os, shutil, subprocess, sys, tempfile, time, urllib.request

import hashlib, hmac, struct

import websocket  # websocket-client (ops/test installs it)


def totp(secret_b32, step):
    """RFC 6238: HMAC-SHA1 over the 30-second step, 6 digits."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1000000)


TOTP_USED = {}

PAGE_TIMEOUT_S = 30
START_TIMEOUT_S = 30


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("ops/browser.py: no chromium found (ops/test installs it: apt-get install chromium)")


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=PAGE_TIMEOUT_S, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method, deadline):
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == method:
                return msg
            self.events.append(msg)
        raise TimeoutError(method)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--cookie", action="append", default=[], help="NAME=VALUE, for the base URL's host")
    ap.add_argument("--screenshots", help="a directory for one PNG per page")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--steps", help="a JSON file of steps to walk (see above)")
    ap.add_argument("pages", nargs="*")
    args = ap.parse_args()

    profile = tempfile.mkdtemp(prefix="xyd-chromium-")
    proc = subprocess.Popen(
        [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-port=0",
         f"--window-size={args.width},900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + START_TIMEOUT_S
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if time.time() > deadline or proc.poll() is not None:
                sys.exit("ops/browser.py: chromium did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        # A headless window never has the system's focus: emulate it, so that :focus styles apply
        # as they do for a person tabbing through the page.
        page.call("Emulation.setFocusEmulationEnabled", enabled=True)
        if args.steps:
            run_steps(page, args, json.load(open(args.steps)))
            return
        for c in args.cookie:
            name, value = c.split("=", 1)
            page.call("Network.setCookie", name=name, value=value, url=args.base, httpOnly=True, sameSite="Strict")
        results = []
        for path in args.pages:
            page.events.clear()
            page.call("Page.navigate", url=args.base + path)
            page.wait_for("Page.loadEventFired", time.time() + PAGE_TIMEOUT_S)
            time.sleep(0.2)  # late console messages
            errors, status = console_errors(page.events)
            probe = page.call("Runtime.evaluate", returnByValue=True, expression="""
                ({url: location.pathname,
                  title: document.title,
                  charts: Array.from(document.querySelectorAll('svg')).map(s => {
                      const t = s.querySelector(':scope > title'); const d = s.querySelector(':scope > desc');
                      return {title: t ? t.textContent : null, desc: d ? d.textContent : null,
                              labelled: (s.getAttribute('aria-labelledby') || '').split(' ').every(id => id && document.getElementById(id)),
                              role: s.getAttribute('role'), width: s.getBoundingClientRect().width};
                  }),
                  scripts: document.scripts.length,
                  text: document.body ? document.body.innerText.slice(0, 400) : ''})
                """)["result"]["value"]
            shot = None
            if args.screenshots:
                os.makedirs(args.screenshots, exist_ok=True)
                data = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
                shot = os.path.join(args.screenshots, (path.strip("/").replace("/", "-") or "index") + ".png")
                with open(shot, "wb") as f:
                    f.write(base64.b64decode(data))
            results.append({"path": path, "status": status, "console_errors": errors, "screenshot": shot, **probe})
        json.dump({"pages": results}, sys.stdout, ensure_ascii=False)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(events):
    errors, status = [], None
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif m == "Runtime.exceptionThrown":
            errors.append(p.get("exceptionDetails", {}).get("text", "exception"))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append(p["entry"].get("text", ""))
        elif m == "Network.responseReceived" and p.get("type") == "Document":
            status = p["response"]["status"]
    return errors, status


def run_steps(page, args, steps):
    """Walks the steps; prints {"steps": [...], "ok": bool}."""
    done, ok, status = [], True, None

    def evaluate(expr):
        r = page.call("Runtime.evaluate", returnByValue=True, expression=expr)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"].get("text", "exception") + " in " + expr)
        return r["result"].get("value")

    def settle(load):
        nonlocal status
        if load:
            page.wait_for("Page.loadEventFired", time.time() + PAGE_TIMEOUT_S)
        time.sleep(0.15)
        errors, st = console_errors(page.events)
        if st is not None:
            status = st
        page.events.clear()
        return errors

    for step in steps:
        result = {"step": step, "ok": True}
        try:
            errors = []
            if "go" in step:
                page.events.clear()
                page.call("Page.navigate", url=args.base + step["go"])
                errors = settle(True)
            elif "fill" in step:
                sel = json.dumps(step["fill"])
                value = step.get("value", "")
                if "totp" in step:
                    secret = step["totp"]
                    wanted = max(int(time.time()) // 30, int(step.get("after", -1)) + 1, TOTP_USED.get(secret, -1) + 1)
                    while int(time.time()) // 30 < wanted - 1:  # a code is taken up to one step early
                        time.sleep(0.5)
                    TOTP_USED[secret] = wanted
                    value = totp(secret, wanted)
                found = evaluate(f"""(() => {{ const el = document.querySelector({sel}); if (!el) return false;
                    el.focus(); el.value = {json.dumps(value)};
                    el.dispatchEvent(new Event('input', {{bubbles: true}})); el.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()""")
                if not found:
                    raise RuntimeError(f"no element {step['fill']}")
            elif "check" in step:
                if not evaluate(f"(() => {{ const el = document.querySelector({json.dumps(step['check'])}); if (!el) return false; el.checked = true; return true; }})()"):
                    raise RuntimeError(f"no element {step['check']}")
            elif "tap" in step or "click" in step:
                sel = step.get("tap") or step["click"]
                page.events.clear()
                if not evaluate(f"(() => {{ const el = document.querySelector({json.dumps(sel)}); if (!el) return false; el.click(); return true; }})()"):
                    raise RuntimeError(f"no element {sel}")
                errors = settle("click" in step)
            elif "expect_text" in step:
                text = evaluate("document.body ? document.body.innerText : ''") or ""
                if step["expect_text"] not in text:
                    raise RuntimeError(f"text not on {evaluate('location.pathname')}: {step['expect_text']!r}; the page says: {text[:600]!r}")
            elif "expect_path" in step:
                path = evaluate("location.pathname + location.search")
                if not path.startswith(step["expect_path"]):
                    raise RuntimeError(f"at {path}, not {step['expect_path']}")
            elif "expect_status" in step:
                if status != step["expect_status"]:
                    raise RuntimeError(f"status {status}, not {step['expect_status']}")
            elif "eval" in step:
                value = evaluate(step["eval"])
                if "equals" in step and value != step["equals"]:
                    raise RuntimeError(f"{step['eval']} is {value!r}, not {step['equals']!r}")
                result["value"] = value
            elif "width" in step:
                page.call("Emulation.setDeviceMetricsOverride", width=step["width"], height=800, deviceScaleFactor=1, mobile=step["width"] < 600)
            elif "shot" in step:
                if args.screenshots:
                    os.makedirs(args.screenshots, exist_ok=True)
                    data = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
                    with open(os.path.join(args.screenshots, step["shot"] + ".png"), "wb") as f:
                        f.write(base64.b64decode(data))
            if errors:
                raise RuntimeError(f"console errors: {errors}")
            result["path"] = evaluate("location.pathname")
            result["status"] = status
        except Exception as e:  # the step failed: say why and stop
            result["ok"] = False
            result["error"] = str(e)
            ok = False
        done.append(result)
        if not ok:
            break
    json.dump({"steps": done, "ok": ok}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
