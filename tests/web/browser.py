"""What the browser tests share: viewports, screenshots into test-artifacts/ (ignored by git), and axe-core."""

from pathlib import Path

from django.conf import settings

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The bar: no serious or critical finding (WCAG 2.1 A/AA rules and axe's best practices alike).
BLOCKING_IMPACTS = {"serious", "critical"}


def _axe_source() -> Path:
    """The axe-core build that axe-playwright-python ships (4.12), loaded without its per-call re-injection."""
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).parent / "axe.min.js"


AXE_SOURCE = _axe_source()


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def axe_findings(page) -> list[str]:
    """Serious and critical axe-core violations on the page as it stands, one line per rule and element.

    axe-core itself is put into every page by the context's init script (see `open_page`), so each page
    does not pay for evaluating its half a megabyte again here."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    # The page's own scripts name the admin's widgets on load and again on the next animation frame after any
    # change (web/admin-a11y.js): judge the page once they have run, not in between.
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}) {node['target']}: {violation['help']}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
        for node in violation["nodes"]
    ]
