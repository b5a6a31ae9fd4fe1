"""Page weight of the questionnaire page on first load, against the 60 KB (gzip) budget.

Run: .venv/bin/python -m bench.page_weight [--chromium /usr/bin/chromium] [--keep-open]

Starts the app on a throw-away SQLite database and a free 127.0.0.1 port, enrols a patient,
then opens the questionnaire page (GAD-7, PEG and three 0-10 scales) in a fresh Chromium
profile and sums ``gzip -9`` sizes of every response the page and its service worker fetch
(HTML, CSS, modules, icons, manifest, instrument JSON, API calls). Prints each response, the
total, and the ratio to the budget. Nothing is asserted here.
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import threading
import time
from pathlib import Path

BUDGET = 60 * 1024
INSTRUMENTS = ["gad7", "nrs_pain", "nrs_fatigue", "nrs_sleep", "peg"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def gz(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9))


def measure(context, url: str, settle: float = 1.5) -> list[dict]:
    """Open ``url`` in a new page of ``context``; return each response with raw and gzip size."""
    seen: list = []

    def keep(response) -> None:
        seen.append(response)

    context.on("response", keep)
    page = context.new_page()
    page.goto(url)
    page.locator("fieldset").first.wait_for()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_load_state("networkidle")
    time.sleep(settle)  # let the service worker finish caching the shell
    context.remove_listener("response", keep)
    rows = []
    for response in seen:
        try:
            body = response.body()
        except Exception:  # the service worker's own fetches expose no body here
            body = b""
        if not body and response.status == 200:
            body = context.request.get(response.url).body()  # same bytes, for the size only
        rows.append({"url": response.url, "status": response.status, "raw": len(body),
                     "gzip": gz(body) if body else 0,
                     "by_worker": response.frame is None if _has_frame(response) else True})
    page.close()
    return rows


def _has_frame(response) -> bool:
    try:
        response.frame  # noqa: B018 - raises for service-worker requests
        return True
    except Exception:
        return False


def report(rows: list[dict], base: str) -> int:
    total = sum(r["gzip"] for r in rows)
    width = max(len(r["url"]) - len(base) for r in rows) if rows else 10
    for r in sorted(rows, key=lambda r: -r["gzip"]):
        who = "sw  " if r["by_worker"] else "page"
        print(f"{who} {r['url'][len(base):]:<{width}} {r['status']:>4} {r['raw']:>8} B "
              f"{r['gzip']:>7} B gz")
    page_only = sum(r["gzip"] for r in rows if not r["by_worker"])
    print(f"\nresponses: {len(rows)}; page alone {page_only} B gz "
          f"({page_only / BUDGET:.2f} of budget)")
    print(f"total (page + service worker precache): {total} B gzip -9 = {total / 1024:.1f} KB; "
          f"budget {BUDGET // 1024} KB; ratio {total / BUDGET:.2f}")
    return total


def serve(tmp: Path):
    """The app on a fresh SQLite database, a patient invite; returns (base, token, stop)."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from backend import create_app
    from backend.clinics.service import create_clinic
    from backend.extensions import db
    from backend.patients.service import create_patient, issue_invite
    from backend.schedules.service import save
    from backend.users.service import create_user

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                      "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "PUBLIC_BASE_URL": "http://127.0.0.1"})
    with app.app_context(), app.test_request_context():
        upgrade(directory=app.extensions["migrate"].directory)
        clinic = create_clinic(name="Bench clinic", slug="bench")
        save(clinic.id, {"dose_slots": [], "routine": {"every_days": 7, "after_minutes": 4320,
                                                       "instruments": INSTRUMENTS}})
        user = create_user(clinic.id, "bench@clinic.test", "correct horse battery")
        token = issue_invite(create_patient(user), user)["token"]
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", token, server.shutdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        base, token, stop = serve(Path(tmp))
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        r = context.request.post(base + "/api/v1/enroll", data={"token": token})
        assert r.status == 201, r.text()
        url = f"{base}/app/answer?slot=r.0&i={','.join(INSTRUMENTS)}"
        print(f"first load of {url[len(base):]} at 390x844, fresh profile\n")
        report(measure(context, url), base)
        browser.close()
        stop()


if __name__ == "__main__":
    main()
