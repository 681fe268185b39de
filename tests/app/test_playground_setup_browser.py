"""The playground's setup in headless Debian chromium (Playwright) against a real server: the
Compare tab's configurations kept in the URL and restored from it, the input-feature toggles
changing the model's inputs (and the network drawn with one unit per encoded feature), and the
phone layout after training and after Reset, every control reachable by keyboard and named.
Screenshots at desktop and phone widths go to the test's temporary directory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.app.test_playground_browser import (
    TRAIN_WAIT_MS,
    UNNAMED_CONTROLS,
    launch_chromium,
    open_page,
)
from tests.app.test_playground_live_browser import no_wider_than, watch_console
from tests.conftest import StartServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for this module's tests."""
    yield from launch_chromium()


PHONE = {"width": 390, "height": 844}


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


COMPARE_CHECKS = """async () => {
  const state = await import("/static/js/state.js");
  const bad = ["4:relu;0;10;gd;1;x", "4:relu;0.1;0;gd;1;x", "4:relu;0.1;10;sgd;1;x",
    "4:relu;0.1;10;gd;-1;x", "4:relu;0.1;10;gd;1; ", "4relu;0.1;10;gd;1;x", "4:relu;0.1;10;gd;1"]
    .map(state.parseCompare);
  const five = Array(5).fill("cmp=2:tanh;0.1;10;gd;1;n").join("&");
  const again = state.formatCompare(state.parseCompare("2:relu;0.01;5;adam;0;a;b"));
  return { bad, capped: state.fromQuery(five).cmp.length, again };
}"""


def _compare_fields(page: Page, i: int) -> list[str]:
    names = ("name", "layers", "lr", "iter", "opt", "seed")
    return [page.locator(f"#cmp-{i}-{name}").input_value() for name in names]


def test_the_compare_setup_lives_in_the_url_and_comes_back_from_it(
    browser: Browser, live_server: StartServer, tmp_path: Path
) -> None:
    server = live_server()
    link = urlencode(
        [
            ("tab", "compare"),
            ("kind", "xor"),
            ("samples", "120"),
            ("cmp", "4:relu,2:relu;0.3;150;adam;3;first one"),
            ("cmp", "not a configuration"),  # dropped, the others stay
            ("cmp", "3:tanh;0.5;120;gd;1;second;with a semicolon"),
            ("cmpset", "deep-linear"),
        ]
    )
    page, errors = open_page(browser, f"{server.base_url}/?{link}", 1280, 900)
    console = watch_console(page)
    expect(page.locator("#compare-view")).to_be_visible()
    expect(page.locator(".compare-config")).to_have_count(2)
    assert _compare_fields(page, 0) == ["first one", "4:relu,2:relu", "0.3", "150", "adam", "3"]
    assert _compare_fields(page, 1) == [
        "second;with a semicolon",
        "3:tanh",
        "0.5",
        "120",
        "gd",
        "1",
    ]
    expect(page.locator("#preset-deep-linear")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#preset-relu-linear")).to_have_attribute("aria-pressed", "false")
    assert _query(page)["cmp"] == [
        "4:relu,2:relu;0.3;150;adam;3;first one",
        "3:tanh;0.5;120;gd;1;second;with a semicolon",
    ]

    checks = page.evaluate(COMPARE_CHECKS)
    assert checks["bad"] == [None] * 7
    assert checks["capped"] == 4 and checks["again"] == "2:relu;0.01;5;adam;0;a;b"

    # Edits go into the link at once; an edit leaves the preset behind.
    page.fill("#cmp-1-iter", "100")
    page.select_option("#cmp-1-opt", "momentum")
    page.click("#compare-add")
    page.fill("#cmp-2-layers", "2:relu")
    page.fill("#cmp-2-name", "third")
    page.fill("#cmp-0-lr", "")  # no number: the link keeps the last good value
    page.click("button[aria-label='Remove configuration 1']")
    expect(page.locator(".compare-config")).to_have_count(2)
    query = _query(page)
    assert query["cmp"] == [
        "3:tanh;0.5;100;momentum;1;second;with a semicolon",
        "2:relu;0.5;100;momentum;1;third",
    ]
    assert "cmpset" not in query and query["kind"] == ["xor"] and query["tab"] == ["compare"]
    expect(page.locator("#preset-deep-linear")).to_have_attribute("aria-pressed", "false")

    # The link opened elsewhere restores the comparison, which then trains as restored.
    again, again_errors = open_page(browser, page.url, 1280, 900)
    again_console = watch_console(again)
    expect(again.locator(".compare-config")).to_have_count(2)
    assert _compare_fields(again, 0) == _compare_fields(page, 0)
    assert _compare_fields(again, 1) == ["third", "2:relu", "0.5", "100", "momentum", "1"]
    expect(again.locator("#kind")).to_have_value("xor")
    again.click("#compare-run")
    cards = again.locator(".compare-card")
    expect(cards).to_have_count(2)
    expect(cards.nth(0).locator("h3")).to_have_text("second;with a semicolon")
    expect(cards.nth(1).locator("h3")).to_have_text("third")
    for i in range(2):
        expect(cards.nth(i)).to_have_attribute("data-state", "succeeded", timeout=TRAIN_WAIT_MS)
        expect(cards.nth(i).locator("img")).to_be_visible()
    expect(again.locator("#compare-status")).to_have_text("All configurations finished.")
    again.screenshot(path=tmp_path / "compare-restored-desktop.png", full_page=True)
    again.set_viewport_size(PHONE)
    no_wider_than(again, 390)
    again.screenshot(path=tmp_path / "compare-restored-phone.png", full_page=True)
    assert errors == [] and console == [] and again_errors == [] and again_console == []


SAME_MAPS = """async (path) => {
  const { readMapsFile } = await import("/static/js/mapsfile.js");
  const binary = readMapsFile(await (await fetch(`${path}&format=binary`)).arrayBuffer());
  const json = await (await fetch(path)).json();
  let largest = 0;
  const compare = (a, b) => a.forEach((row, i) => row.forEach((v, k) => {
    largest = Math.max(largest, Math.abs(v - b[i][k]));
  }));
  compare(binary.inputs, json.inputs);
  binary.layers.forEach((layer, l) => {
    compare(layer.values, json.layers[l].values);
    compare(layer.W, json.layers[l].W);
    compare([layer.b], [json.layers[l].b]);
  });
  return {
    names: binary.input_names,
    shapes: [binary.inputs, ...binary.layers.map((l) => l.values)]
      .map((grids) => [grids.length, grids[0].length]),
    largest,
  };
}"""


def _created_model(page: Page, start: str) -> str:
    """Press ``start`` and return the id of the model the page creates for the run."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/v1/models")
    ) as created:
        page.click(start)
    assert created.value.status == 201
    model_id: str = created.value.json()["id"]
    return model_id


def test_feature_toggles_change_the_models_inputs_and_the_drawing(
    browser: Browser, live_server: StartServer, tmp_path: Path
) -> None:
    server = live_server()
    url = f"{server.base_url}/?iter=300&samples=120&layers=3:tanh"
    page, errors = open_page(browser, url, 1280, 900)
    console = watch_console(page)
    expect(page.locator("#dataset-summary")).to_contain_text("120 samples")
    maps_requests: list[str] = []
    page.on("request", lambda r: maps_requests.append(r.url) if "neuron-maps" in r.url else None)
    page.check("#feature-x1_2")
    page.check("#feature-sin_x1_")
    assert _query(page)["feat"] == ["x1^2,sin(x1)"]

    model_id = _created_model(page, "#play")
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=TRAIN_WAIT_MS)
    model = httpx.get(f"{server.base_url}/v1/models/{model_id}", timeout=10).json()
    assert model["n_inputs"] == 4
    assert model["architecture"]["preprocessing"]["derived_features"] == ["x1^2", "sin(x1)"]
    assert model["architecture"]["encoded_features"] == ["x1", "x2", "x1^2", "sin(x1)"]

    # The service scores such a model in its job only: the page shows the job's scores (its
    # validation rows are the test rows) and points to the live output map for the boundary.
    expect(page.locator('dd[data-metric="test-accuracy"]')).to_be_visible()
    expect(page.locator('dd[data-metric="train-accuracy"]')).to_be_visible()
    expect(page.locator("#boundary-caption")).to_contain_text("Inside the network")
    expect(page.locator("#predict-inputs input")).to_have_count(2)  # the raw columns
    page.click("#predict")  # at (0, 0), the circle's centre
    expect(page.locator("#prediction")).to_contain_text("with probability")
    expect(page.locator("#error")).to_be_hidden()

    # One heat map per encoded input feature, then 3 hidden units and the output.
    view = page.locator("#net-view")
    expect(view).to_have_attribute("data-inputs", "x1 x2 x1^2 sin(x1)")
    expect(view.locator(".neuron")).to_have_count(4 + 3 + 1)
    expect(view.locator(".edge")).to_have_count(4 * 3 + 3)
    third = view.locator(".neuron").nth(2)
    expect(third).to_have_attribute("aria-label", _starts("input x1^2: output from"))
    assert (view.locator(".edge").nth(3).locator("title").text_content() or "").startswith(
        "weight from sin(x1) to layer 1 unit 1"
    )
    images = view.locator(".neuron image")
    pictures = {images.nth(i).get_attribute("href") for i in range(4)}
    assert len(pictures) == 4  # x1, x2, x1^2 and sin(x1) are four different pictures
    # The page reads the maps in their binary form, the same numbers as the JSON form.
    assert maps_requests and all("format=binary" in url for url in maps_requests)
    both = page.evaluate(SAME_MAPS, f"/v1/models/{model_id}/neuron-maps?resolution=7")
    assert both["names"] == ["x1", "x2", "x1^2", "sin(x1)"]
    assert both["shapes"] == [[4, 49], [3, 49], [1, 49]] and both["largest"] < 1e-4
    page.screenshot(path=tmp_path / "features-desktop.png", full_page=True)

    # Off again: the next model sees x1 and x2 only, and so does the drawing.
    page.uncheck("#feature-x1_2")
    page.uncheck("#feature-sin_x1_")
    plain_id = _created_model(page, "#play")
    expect(view).to_have_attribute("data-inputs", "x1 x2", timeout=TRAIN_WAIT_MS)
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=TRAIN_WAIT_MS)
    plain = httpx.get(f"{server.base_url}/v1/models/{plain_id}", timeout=10).json()
    assert plain["n_inputs"] == 2 and "preprocessing" not in plain["architecture"]
    expect(view.locator(".neuron")).to_have_count(2 + 3 + 1)
    page.set_viewport_size(PHONE)
    no_wider_than(page, 390)
    page.screenshot(path=tmp_path / "features-phone.png", full_page=True)
    assert errors == [] and console == []


def _starts(prefix: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(prefix))


MARK_CONTROLS = """() => {
  const visible = (el) => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden";
  const controls = [...document.querySelectorAll(
    "input, select, button, textarea, a[href], [tabindex='0']")]
    .filter((el) => visible(el) && !el.disabled)
    // Of a radio group only the checked radio is a tab stop, of the tab list the selected tab;
    // arrow keys move within them.
    .filter((el) => (el.type !== "radio" || el.checked) && el.tabIndex >= 0);
  controls.forEach((el, i) => { el.dataset.kb = String(i); });
  return controls.length;
}"""


def _tab_through(page: Page, stops: int) -> set[str]:
    """The ``data-kb`` marks of every element focused while pressing Tab ``stops`` times."""
    seen: set[str] = set()
    for _ in range(stops):
        page.keyboard.press("Tab")
        mark = page.evaluate("() => document.activeElement?.dataset?.kb ?? null")
        if mark is not None:
            seen.add(mark)
    return seen


def _every_control_by_keyboard(page: Page) -> None:
    count = page.evaluate(MARK_CONTROLS)
    assert count > 20
    page.evaluate("() => document.activeElement?.blur()")
    page.focus(".skip-link")
    reached = _tab_through(page, count + 5)
    missing = page.evaluate(
        """(reached) => [...document.querySelectorAll("[data-kb]")]
          .filter((el) => !reached.includes(el.dataset.kb))
          .map((el) => el.id || el.getAttribute("aria-label") || el.outerHTML.slice(0, 80))""",
        sorted(reached),
    )
    assert missing == []
    assert page.evaluate(UNNAMED_CONTROLS) == []


def test_phone_layout_after_training_and_reset_keyboard_and_labels(
    browser: Browser, live_server: StartServer, tmp_path: Path
) -> None:
    server = live_server()
    url = f"{server.base_url}/?iter=300&samples=120&layers=4:tanh,2:tanh&feat=x1*x2,sin(x2)"
    page, errors = open_page(browser, url, PHONE["width"], PHONE["height"])
    console = watch_console(page)
    expect(page.locator("#dataset-summary")).to_contain_text("120 samples")
    no_wider_than(page, 390)

    # Train from the keyboard: Play with Enter.
    page.focus("#play")
    page.keyboard.press("Enter")
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=TRAIN_WAIT_MS)
    expect(page.locator("#progress-text")).to_have_text("Training finished.", timeout=TRAIN_WAIT_MS)
    view = page.locator("#net-view")
    expect(view.locator(".neuron")).to_have_count(4 + 4 + 2 + 1)
    assert int(page.locator("#iteration-count").inner_text()) == 300
    no_wider_than(page, 390)
    for panel in ("data", "network", "training", "results", "live"):
        box = page.locator(f"#{panel}-panel").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, panel
    page.screenshot(path=tmp_path / "trained-phone.png", full_page=True)
    _every_control_by_keyboard(page)  # the neurons' heat maps are tab stops too

    page.focus("#reset")
    page.keyboard.press("Enter")
    expect(page.locator("#job-state")).to_have_text("not started")
    expect(page.locator("#iteration-count")).to_have_text("0")
    expect(view.locator(".neuron")).to_have_count(0)
    no_wider_than(page, 390)
    page.screenshot(path=tmp_path / "reset-phone.png", full_page=True)
    _every_control_by_keyboard(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=tmp_path / "reset-desktop.png", full_page=True)
    assert errors == [] and console == []
