"""The playground's live network, Compare and Lessons in headless Debian chromium (Playwright)
against a real server: the notes' ReLU-vs-linear exercise, pause / step / resume, per-neuron maps
changing while the network learns, the lessons, and no script errors. Screenshots at desktop
and phone widths go to the test's temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from core.activations import HIDDEN_ACTIVATIONS
from tests.app.test_playground_browser import TRAIN_WAIT_MS, launch_chromium, open_page
from tests.conftest import StartServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for this module's tests."""
    yield from launch_chromium()


def watch_console(page: Page) -> list[str]:
    """Console errors (failed requests the page did not expect show up here too)."""
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    return messages


def no_wider_than(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_notes_exercise_relu_against_linear_side_by_side(
    browser: Browser, live_server: StartServer, tmp_path: Path
) -> None:
    server = live_server()
    # Another dataset first: the preset switches to the circle itself.
    page, errors = open_page(browser, f"{server.base_url}/?kind=xor&tab=compare", 1280, 900)
    console = watch_console(page)
    expect(page.locator("#compare-view")).to_be_visible()
    expect(page.locator("#playground-view")).to_be_hidden()
    expect(page.locator("#cmp-0-layers")).to_have_value("4:relu,2:relu,2:relu")
    page.click("#preset-relu-linear")
    cards = page.locator(".compare-card")
    expect(cards).to_have_count(2)
    for i in range(2):
        expect(cards.nth(i)).to_have_attribute("data-state", "succeeded", timeout=TRAIN_WAIT_MS)
        expect(cards.nth(i).locator("img")).to_be_visible()
    expect(page.locator("#compare-status")).to_have_text("All configurations finished.")
    assert page.locator("#kind").input_value() == "circle"
    scores = [
        float(cards.nth(i).locator(".score").get_attribute("data-score") or "0") for i in (0, 1)
    ]
    relu, linear = scores
    assert relu > linear + 0.2, scores  # a linear network stays a linear boundary
    assert relu >= 0.9
    for i in range(2):
        assert cards.nth(i).locator("img").evaluate("image => image.naturalWidth") > 100
    assert parse_qs(urlsplit(page.url).query)["tab"] == ["compare"]
    page.screenshot(path=tmp_path / "compare-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    no_wider_than(page, 390)
    page.screenshot(path=tmp_path / "compare-phone.png", full_page=True)
    assert errors == [] and console == []


def _count(page: Page) -> int:
    return int(page.locator("#iteration-count").inner_text())


def test_play_pause_step_resume_and_neuron_maps_change_while_training(
    browser: Browser, live_server: StartServer, tmp_path: Path
) -> None:
    server = live_server()
    url = f"{server.base_url}/?iter=400000&samples=200&layers=4:tanh,2:tanh"
    page, errors = open_page(browser, url, 1280, 900)
    console = watch_console(page)
    expect(page.locator("#dataset-summary")).to_contain_text("200 samples")
    # The service takes derived features: x1, x2 and the five derived toggles (all off).
    expect(page.locator("#features-note")).to_be_hidden()
    expect(page.locator("#feature-toggles input")).to_have_count(7)

    page.click("#play")
    expect(page.locator("#job-state")).to_have_text("running", timeout=TRAIN_WAIT_MS)
    view = page.locator("#net-view")
    # 2 inputs, 4 and 2 hidden units, 1 output; 2*4 + 4*2 + 2*1 edges.
    expect(view.locator(".neuron")).to_have_count(9)
    expect(view.locator(".edge")).to_have_count(18)
    page.wait_for_function(
        "() => Number(document.getElementById('net-view').dataset.iteration) > 0"
    )
    first = view.get_attribute("data-signature")
    page.wait_for_function(
        "s => document.getElementById('net-view').dataset.signature !== s", arg=first
    )
    edge = view.locator(".edge").first
    assert edge.get_attribute("stroke") in ("#1a73e8", "#e8710a")
    assert (edge.locator("title").text_content() or "").startswith(
        "weight from x1 to layer 1 unit 1"
    )
    view.locator(".neuron").nth(2).focus()
    expect(page.locator("#net-hover")).to_contain_text("layer 1 unit 1 (tanh): output from")

    page.click("#pause")
    expect(page.locator("#job-state")).to_have_text("paused", timeout=TRAIN_WAIT_MS)
    expect(page.locator("#play")).to_have_text("Resume")
    paused_at = _count(page)
    assert paused_at > 0
    page.wait_for_function(
        "n => Number(document.getElementById('net-view').dataset.iteration) === n", arg=paused_at
    )
    page.fill("#step-size", "25")
    page.click("#step")
    expect(page.locator("#iteration-count")).to_have_text(str(paused_at + 25))
    expect(page.locator("#job-state")).to_have_text("paused")
    page.wait_for_function(
        "n => Number(document.getElementById('net-view').dataset.iteration) === n",
        arg=paused_at + 25,
    )
    page.screenshot(path=tmp_path / "live-desktop.png", full_page=True)

    page.click("#play")  # resume
    page.wait_for_function(
        "n => Number(document.getElementById('iteration-count').textContent) > n",
        arg=paused_at + 25,
    )
    assert page.locator("#train-loss").inner_text() != "–"
    assert page.locator("#test-loss").inner_text() != "–"
    page.click("#reset")
    expect(page.locator("#iteration-count")).to_have_text("0")
    expect(page.locator("#progress-text")).to_have_text(
        "Training cancelled.", timeout=TRAIN_WAIT_MS
    )

    page.set_viewport_size({"width": 390, "height": 844})
    no_wider_than(page, 390)
    page.screenshot(path=tmp_path / "live-phone.png", full_page=True)
    assert errors == [] and console == []


MODULE_CHECKS = r"""async () => {
  const affine = await import("/static/js/affine.js");
  const training = await import("/static/js/training.js");
  const api = await import("/static/js/api.js");
  const state = await import("/static/js/state.js");
  const lessons = await import("/static/js/lessons.js");
  const refusal = new api.ApiError(422, "validation_error", "bad", [
    { field: "body.derived_features", message: "Extra inputs are not permitted", code: "x" },
  ]);
  return {
    images: affine.NOTES_MATRICES.map((W) => affine.applyAffine(W, [0, 0], [1, 1])),
    shifted: affine.applyAffine([[2, 1], [0, 1]], [1, -1], [1, 1]),
    refuses: [training.refusesDerivedFeatures(refusal),
      training.refusesDerivedFeatures(new api.ApiError(422, "validation_error", "bad", []))],
    features: state.fromQuery("feat=sin(x1),nope,x1^2").feat,
    variances: lessons.initVariances(2, 4),
  };
}"""


def test_lessons_affine_maps_activations_and_initial_weights(
    browser: Browser, live_server: StartServer, tmp_path: Path
) -> None:
    server = live_server()
    page, errors = open_page(browser, f"{server.base_url}/", 390, 844)
    console = watch_console(page)
    page.focus("#tab-playground")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-lessons")).to_be_focused()
    expect(page.locator("#lessons-view")).to_be_visible()
    assert parse_qs(urlsplit(page.url).query)["tab"] == ["lessons"]

    # Affine maps: pictures A, B, C are matrices 3, 1, 2.
    expect(page.locator(".affine-picture canvas")).to_have_count(3)
    for i, answer in enumerate(("1", "2", "3")):
        page.select_option(f"#affine-answer-{i}", answer)
    page.click("#affine-check")
    expect(page.locator("#affine-result")).to_have_attribute("data-right", "0")
    for i, answer in enumerate(("3", "1", "2")):
        page.select_option(f"#affine-answer-{i}", answer)
    page.click("#affine-check")
    expect(page.locator("#affine-result")).to_contain_text("All three right")
    page.fill("#b1", "1")  # the free map redraws with a bias

    # Every hidden-layer activation of the service with its derivative, drawn by the service.
    plots = page.locator(".activation-plot")
    expect(plots).to_have_count(len(HIDDEN_ACTIVATIONS))
    page.wait_for_function(
        "() => [...document.querySelectorAll('.activation-plot')]"
        ".every((image) => image.complete && image.naturalWidth > 100)",
        timeout=TRAIN_WAIT_MS,
    )

    page.fill("#weights-layers", "32,32")
    page.select_option("#weights-init", "he")
    page.click("#weights-draw")
    expect(page.locator("#weights-image")).to_be_visible()
    expect(page.locator("#weights-variances")).to_contain_text(
        "W1 (32×2): Glorot 0.0588, He 1.0000"
    )
    page.wait_for_function("() => document.getElementById('weights-image').naturalWidth > 100")
    no_wider_than(page, 390)
    page.screenshot(path=tmp_path / "lessons-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=tmp_path / "lessons-desktop.png", full_page=True)

    result = page.evaluate(MODULE_CHECKS)
    assert result["images"] == [[1, -1], [-1, 1], [-1, -1]]
    assert result["shifted"] == [4, 0]
    assert result["refuses"] == [True, False]
    assert result["features"] == ["x1^2", "sin(x1)"]
    assert result["variances"] == {"glorot": 1 / 3, "he": 1.0, "notes": 1 / 3}
    assert errors == [] and console == []
