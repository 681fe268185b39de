"""The playground in a real browser: headless Debian chromium driven by Playwright, against a
real annserve server. ``make test`` installs chromium first (``make browser-deps``), so a missing
browser is a failure here, never a skip. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect, sync_playwright

from core.activations import HIDDEN_ACTIVATIONS
from tests.conftest import REPO_ROOT, StartServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("ANNSERVE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
API_KEY = "playground-browser-key-0123456789"
WAIT_MS = 15_000
TRAIN_WAIT_MS = 90_000
# Generous: a cold server on a busy two-core machine can take seconds to answer the first call.
expect.set_options(timeout=WAIT_MS)


def launch_chromium() -> Iterator[Browser]:
    """Debian's headless chromium under Playwright, closed when the generator ends."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for this module's tests."""
    yield from launch_chromium()


def open_page(browser: Browser, url: str, width: int, height: int) -> tuple[Page, list[str]]:
    """A fresh page (own storage) at ``url``; the list collects uncaught script errors."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


def enter_key(page: Page) -> None:
    """The service asks for a key: the key panel shows with the reason, then the key is used."""
    expect(page.locator("#key-panel")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("needs an API key")
    page.fill("#api-key", API_KEY)
    page.press("#api-key", "Enter")
    expect(page.locator("#error")).to_be_hidden()


def metric(page: Page, name: str) -> float:
    return float(page.locator(f'dd[data-metric="{name}"]').inner_text())


def test_notes_network_trains_on_circle_and_its_link_reproduces_the_setup(
    browser: Browser, live_server: StartServer
) -> None:
    server = live_server(env={"ANNSERVE_API_KEYS": API_KEY})
    # Start from another setup, so that building the notes' network takes real edits.
    start = f"{server.base_url}/?kind=xor&layers=8:relu,2:relu&init=he&seed=7&iter=300"
    page, errors = open_page(browser, start, 1280, 900)
    enter_key(page)
    expect(page.locator("#dataset-summary")).to_contain_text("400 samples")
    expect(page.locator("#param-count")).to_have_text("45")  # (2+1)*8 + (8+1)*2 + (2+1)*1
    # The activation choices are the service's (GET /v1/activations), in core's order.
    expect(page.locator("#layer-0-activation option")).to_have_text(list(HIDDEN_ACTIVATIONS))

    # Build 2-4-1: tanh hidden layer, sigmoid output, Glorot, seed 2, on the circle set.
    page.select_option("#kind", "circle")
    page.click("button[aria-label='Remove hidden layer 2']")
    page.fill("#layer-0-units", "4")
    page.select_option("#layer-0-activation", "tanh")
    page.select_option("#output", "sigmoid")
    page.select_option("#init", "glorot")
    page.fill("#seed", "2")
    page.fill("#lr", "0.5")
    page.fill("#iter", "60000")  # long enough for several progress events
    expect(page.locator("#param-count")).to_have_text("17")
    expect(page.locator("#architecture")).to_have_text("2 inputs → 4 tanh → 1 sigmoid")
    expect(page.locator("#dataset-summary")).to_contain_text("circle")

    page.click("#train")
    expect(page.locator("#cancel")).to_be_enabled()
    expect(page.locator("#progress-text")).to_contain_text("Iteration", timeout=TRAIN_WAIT_MS)
    expect(page.locator("#progress-text")).to_have_text("Training finished.", timeout=TRAIN_WAIT_MS)
    # The curve grew from progress events while the job ran, before the final history.
    assert int(page.locator("#curve").get_attribute("data-live-points") or "0") >= 3
    expect(page.locator('dd[data-metric="test-accuracy"]')).to_be_visible()
    assert metric(page, "train-accuracy") >= 0.9
    assert metric(page, "test-accuracy") >= 0.9

    # The decision boundary image of the trained version, fetched with the key.
    boundary = page.locator("#boundary")
    expect(boundary).to_be_visible()
    expect(page.locator("#boundary-caption")).to_contain_text("version 1")
    assert boundary.evaluate("image => image.naturalWidth") > 100

    # Predict: the centre is inside the inner disc (class 1), far out is the ring (class 0).
    page.fill("#predict-0", "0")
    page.fill("#predict-1", "0")
    page.click("#predict")
    expect(page.locator("#prediction")).to_contain_text("Class 1 with probability")
    probability = re.search(r"([\d.]+)%", page.locator("#prediction").inner_text())
    assert probability is not None and float(probability.group(1)) > 50
    page.fill("#predict-0", "4.5")
    page.click("#predict")
    expect(page.locator("#prediction")).to_contain_text("Class 0 with probability")

    # The model list shows the trained model and its versions.
    model = page.locator("#models li.model").first
    expect(model).to_contain_text("v1")
    expect(model).to_contain_text("17 parameters")  # the server's count agrees with the page's
    model.locator("summary").click()
    expect(model.locator(".versions")).to_contain_text("v1 (current)")
    expect(model.locator(".versions")).to_contain_text("v0: initialization")

    page.check("#logy")  # the cost curve on a log scale: a view setting kept in the link too
    expect(page.locator("#error")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "playground.png", full_page=True)
    assert errors == []

    # The address holds the whole setup; opening it elsewhere gives the same page.
    link = page.url
    query = parse_qs(urlsplit(link).query)
    assert query["layers"] == ["4:tanh"]
    assert query["kind"] == ["circle"]
    again, again_errors = open_page(browser, link, 1280, 900)
    enter_key(again)
    expect(again.locator("#kind")).to_have_value("circle")
    expect(again.locator("#layer-0-units")).to_have_value("4")
    expect(again.locator("#layer-0-activation")).to_have_value("tanh")
    expect(again.locator("#layers li.layer")).to_have_count(1)
    expect(again.locator("#output")).to_have_value("sigmoid")
    expect(again.locator("#init")).to_have_value("glorot")
    expect(again.locator("#seed")).to_have_value("2")
    expect(again.locator("#lr")).to_have_value("0.5")
    expect(again.locator("#iter")).to_have_value("60000")
    expect(again.locator("#param-count")).to_have_text("17")
    expect(again.locator("#logy")).to_be_checked()
    assert again.url == link
    assert again_errors == []


def points_csv(n: int = 40) -> bytes:
    """A small two-feature CSV with string labels: left points "west", right points "east"."""
    lines = ["a,b,side"]
    for i in range(n):
        x = (i % 10) - 4.5
        lines.append(f"{x},{(i * 7) % 5 - 2},{'east' if x > 0 else 'west'}")
    return ("\n".join(lines) + "\n").encode()


def test_phone_width_keyboard_cancel_upload_and_plain_word_errors(
    browser: Browser, live_server: StartServer
) -> None:
    server = live_server(env={"ANNSERVE_MAX_UNITS": "8"})
    page, errors = open_page(browser, f"{server.base_url}/?iter=40000&test=25", 390, 844)
    expect(page.locator("#dataset-summary")).to_contain_text("300 train, 100 test")
    expect(page.locator("#key-panel")).to_be_hidden()

    # One column, nothing wider than the screen.
    boxes = [page.locator(f"#{name}-panel").bounding_box() for name in ("data", "network")]
    assert boxes[0] is not None and boxes[1] is not None
    assert boxes[0]["x"] == boxes[1]["x"] and boxes[1]["y"] > boxes[0]["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # Keyboard only: change the dataset with the arrow keys, train with Enter. Without a key
    # the page follows the job with the browser's EventSource.
    page.focus("#kind")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#kind")).to_have_value("xor")
    expect(page.locator("#dataset-summary")).to_contain_text("xor")
    assert parse_qs(urlsplit(page.url).query)["kind"] == ["xor"]
    page.focus("#train")
    page.keyboard.press("Enter")
    expect(page.locator("#progress-text")).to_have_text("Training finished.", timeout=TRAIN_WAIT_MS)
    assert int(page.locator("#curve").get_attribute("data-live-points") or "0") >= 2
    expect(page.locator('dd[data-metric="train-accuracy"]')).to_be_visible()

    # With the event stream unreachable the page polls the job instead; Cancel stops it.
    page.route("**/events", lambda route: route.abort())
    page.fill("#iter", "1000000")
    page.click("#train")
    expect(page.locator("#progress-text")).to_contain_text("Iteration", timeout=TRAIN_WAIT_MS)
    page.click("#cancel")
    expect(page.locator("#progress-text")).to_have_text(
        "Training cancelled.", timeout=TRAIN_WAIT_MS
    )
    expect(page.locator("#train")).to_be_enabled()
    page.unroute("**/events")

    # An API error reads as words, not JSON: this server allows at most 8 units per layer.
    page.fill("#layer-0-units", "9")
    page.click("#train")
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("more than max_units=8")
    assert "{" not in error.inner_text()

    # A CSV upload becomes the dataset, and its id goes into the link.
    page.check("input[name=source][value=upload]")
    upload: FilePayload = {"name": "points.csv", "mimeType": "text/csv", "buffer": points_csv()}
    page.set_input_files("#csv-file", files=[upload])
    page.click("#upload")
    expect(page.locator("#dataset-summary")).to_contain_text("40 samples")
    expect(page.locator("#dataset-summary")).to_contain_text("east")
    query = parse_qs(urlsplit(page.url).query)
    assert query["source"] == ["upload"]
    assert re.fullmatch(r"ds_[0-9a-f]{16}", query["dataset"][0])
    expect(page.locator("#error")).to_be_hidden()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "playground-phone.png", full_page=True)
    assert errors == []


MODULE_CHECKS = r"""async () => {
  const state = await import("/static/js/state.js");
  const api = await import("/static/js/api.js");
  const custom = "source=upload&dataset=ds_0123456789abcdef&kind=spiral&classes=3"
    + "&layers=8:relu,2:tanh&output=softmax&lr=0.05&batch=32&opt=adam&l2=0.001&iter=500";
  const parsed = state.fromQuery(custom);
  const again = state.fromQuery(state.toQuery(parsed).toString());
  const bad = state.fromQuery("kind=nope&classes=99&noise=-1&layers=4:wat&lr=abc&iter=0"
    + "&dataset=../x&opt=sgd&samples=1.5&seed=-3");
  const parse = api.parseEventStream();
  const messages = [
    ...parse('event: progress\nid: 3\ndata: {"iteration":'),
    ...parse('3}\n\n: ping\n\nevent: status\r\ndata: {"status":"succeeded"}\r\n\r\n'),
  ];
  const invalid = new api.ApiError(422, "validation_error", "1 invalid field(s)", [
    { field: "body.learning_rate", message: "Input should be greater than 0", code: "gt" },
  ]);
  return {
    parsed, again, bad,
    defaults: state.fromQuery(""),
    noLayers: state.fromQuery("layers=").layers,
    counts: [
      state.parameterCount(2, [{ units: 4 }], 1),
      state.parameterCount(2, [], 1),
      state.parameterCount(2, [{ units: 8 }, { units: 8 }], 3),
    ],
    messages,
    words: [
      api.plainWords(invalid),
      api.plainWords(new api.ApiError(401, "missing_api_key", "send a key")),
      api.plainWords(new api.ApiError(404, "model_not_found", "no model mdl_x")),
    ],
  };
}"""

UNNAMED_CONTROLS = """() => [...document.querySelectorAll("input, select, button, textarea")]
  .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.textContent.trim()))
  .map((el) => el.id || el.outerHTML)"""


def test_modules_parse_urls_count_parameters_read_streams_and_controls_have_names(
    browser: Browser, live_server: StartServer
) -> None:
    server = live_server()
    page, errors = open_page(browser, f"{server.base_url}/", 800, 600)
    expect(page.locator("#dataset-summary")).to_contain_text("400 samples")
    result = page.evaluate(MODULE_CHECKS)
    # Every control has a name a screen reader can announce (a label, aria-label or its text).
    unnamed = page.evaluate(UNNAMED_CONTROLS)
    assert unnamed == []

    parsed = result["parsed"]
    assert parsed["layers"] == [
        {"units": 8, "activation": "relu"},
        {"units": 2, "activation": "tanh"},
    ]
    assert (parsed["kind"], parsed["classes"], parsed["opt"]) == ("spiral", 3, "adam")
    assert (parsed["lr"], parsed["batch"], parsed["l2"], parsed["iter"]) == (0.05, 32, 0.001, 500)
    assert (parsed["source"], parsed["dataset"]) == ("upload", "ds_0123456789abcdef")
    assert result["again"] == parsed
    # Every bad value falls back to its default rather than breaking the page.
    assert result["bad"] == result["defaults"]
    assert result["defaults"]["layers"] == [{"units": 4, "activation": "tanh"}]
    assert result["noLayers"] == []
    assert result["counts"] == [17, 3, 123]

    assert result["messages"] == [
        {"event": "progress", "data": '{"iteration":3}', "id": "3"},
        {"event": "status", "data": '{"status":"succeeded"}', "id": None},
    ]
    assert result["words"] == [
        "Some settings are not valid. learning rate: Input should be greater than 0.",
        "This service needs an API key: enter it in the API key box.",
        "No model mdl_x.",
    ]
    assert errors == []
