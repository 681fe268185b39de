// The Compare tab: train several configurations on the same dataset and see their boundaries,
// cost curves and test scores side by side (the notes' ReLU-vs-linear exercise is a preset).

import { api } from "./api.js";
import { drawCurve } from "./plots.js";
import {
  HIDDEN_ACTIVATIONS,
  MAX_COMPARE,
  MAX_UNITS,
  OPTIMIZERS,
  formatCompare,
  parseCompare,
  parseLayers,
} from "./state.js";
import { watchJob } from "./watch.js";

// The notes: "circle data, three hidden layers 4-2-2, ReLU against linear; then linear with
// more layers". Seed and learning rate are ones with which the ReLU network learns the circle.
const NOTES_RUN = { lr: 0.1, iter: 2000, opt: "gd", seed: 4 };
export const PRESETS = {
  "relu-linear": [
    { name: "ReLU 4-2-2", layers: "4:relu,2:relu,2:relu", ...NOTES_RUN },
    { name: "linear 4-2-2", layers: "4:linear,2:linear,2:linear", ...NOTES_RUN },
  ],
  "deep-linear": [
    { name: "ReLU 4-2-2", layers: "4:relu,2:relu,2:relu", ...NOTES_RUN },
    { name: "linear 4-2-2", layers: "4:linear,2:linear,2:linear", ...NOTES_RUN },
    { name: "linear 4-4-4-4-2-2", layers: "4:linear,4:linear,4:linear,4:linear,2:linear,2:linear",
      ...NOTES_RUN },
  ],
};

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/**
 * Wire the Compare tab; `dataset` is the Playground's data panel, `chooseCircle()` sets it.
 * The configurations live in `config.cmp` (and so in the URL; empty: the notes' preset) and the
 * preset they came from in `config.cmpset`; `onChange()` runs after every change.
 */
export function createComparePanel({ config: page, report, dataset, chooseCircle, onChange }) {
  const list = document.getElementById("compare-configs");
  const results = document.getElementById("compare-results");
  const status = document.getElementById("compare-status");
  const runButton = document.getElementById("compare-run");
  const addButton = document.getElementById("compare-add");
  let configs = (page.cmp.length > 0 ? page.cmp : PRESETS["relu-linear"]).map((c) => ({ ...c }));
  const presetButtons = {
    "relu-linear": document.getElementById("preset-relu-linear"),
    "deep-linear": document.getElementById("preset-deep-linear"),
  };

  /** Keep the configurations (and the preset, unless `edited`) in the page's URL. */
  function save({ edited = false } = {}) {
    page.cmp = configs.map((c) => ({ ...c }));
    if (edited) page.cmpset = "";
    for (const [name, button] of Object.entries(presetButtons)) {
      button.setAttribute("aria-pressed", String(page.cmpset === name));
    }
    onChange();
  }

  function input(id, label, attributes, value, onInput) {
    const control = element(attributes.tag ?? "input", { id, ...attributes.attrs });
    if (attributes.options) {
      control.append(...attributes.options.map((o) => element("option", { value: o, text: o })));
    }
    control.value = String(value);
    control.addEventListener("input", () => onInput(control.value));
    control.addEventListener("change", () => onInput(control.value));
    return [element("label", { for: id, text: label }), control];
  }

  function render() {
    list.replaceChildren(...configs.map((config, i) => {
      // A value is taken when the configuration would come back from the URL as it is.
      const set = (key, parse) => (value) => {
        const changed = { ...config, [key]: parse(value) };
        if (parseCompare(formatCompare(changed)) === null) return;
        config[key] = changed[key];
        save({ edited: true });
      };
      const remove = element("button", {
        type: "button", text: "Remove", "aria-label": `Remove configuration ${i + 1}`,
      });
      remove.addEventListener("click", () => {
        configs.splice(i, 1);
        render();
        save({ edited: true });
      });
      remove.disabled = configs.length <= 1;
      return element("li", { class: "compare-config" }, [
        element("div", { class: "fields" }, [
          ...input(`cmp-${i}-name`, `Name ${i + 1}`, {
            attrs: { type: "text", maxlength: "60" } }, config.name, set("name", String)),
          ...input(`cmp-${i}-layers`, "Hidden layers (units:activation)", {
            attrs: { type: "text", spellcheck: "false" } }, config.layers, set("layers", String)),
          ...input(`cmp-${i}-lr`, "Learning rate", { attrs: { type: "number", step: "any" } },
            config.lr, set("lr", Number)),
          ...input(`cmp-${i}-iter`, "Iterations", { attrs: { type: "number", step: "1" } },
            config.iter, set("iter", Number)),
          ...input(`cmp-${i}-opt`, "Optimizer", { tag: "select", options: OPTIMIZERS },
            config.opt, set("opt", String)),
          ...input(`cmp-${i}-seed`, "Weight seed", { attrs: { type: "number", step: "1" } },
            config.seed, set("seed", Number)),
        ]),
        remove,
      ]);
    }));
    addButton.disabled = configs.length >= MAX_COMPARE;
  }

  function card(config) {
    const curve = element("canvas", {
      class: "plot wide", width: "320", height: "150", role: "img",
      "aria-label": `Cost curve of ${config.name}`,
    });
    const image = element("img", { alt: `Decision boundary of ${config.name}`, hidden: "" });
    const state = element("p", { class: "summary", text: "Queued…" });
    const score = element("p", { class: "score" });
    const node = element("article", { class: "compare-card" }, [
      element("h3", { text: config.name }), image, curve, state, score,
    ]);
    node.dataset.state = "queued";
    return { node, curve, image, state, score };
  }

  async function runOne(config, view, row) {
    const layers = parseLayers(config.layers);
    if (layers === null) {
      throw new Error(`"${config.layers}" is not a list of hidden layers such as 4:relu,2:relu `
        + `(activations: ${HIDDEN_ACTIVATIONS.join(", ")}; at most ${MAX_UNITS} units)`);
    }
    const model = await api("POST", "/v1/models", {
      json: {
        name: `${row.name} ${config.name}`.slice(0, 200), dataset_id: row.id, seed: config.seed,
        hidden_layers: layers, init: "auto",
      },
    });
    const body = {
      dataset_id: row.id, n_iter: config.iter, learning_rate: config.lr, optimizer: config.opt,
    };
    if (row.n_test > 0) body.validation = "test";
    const job = await api("POST", `/v1/models/${model.id}/train`, { json: body });
    const points = [];
    const final = await watchJob(job, (p) => {
      if (!p || !Number.isFinite(p.cost)) return;
      const last = points[points.length - 1];
      if (!last || p.iteration > last.iteration) {
        points.push({ iteration: p.iteration, cost: p.cost, validation: p.val_cost ?? NaN });
        drawCurve(view.curve, points, config.iter);
      }
      view.state.textContent = `Iteration ${p.iteration} of ${config.iter}`;
    });
    view.node.dataset.state = final.status;
    if (final.status !== "succeeded") {
      view.state.textContent = `Training ${final.status}.`;
      return;
    }
    const history = await api("GET", `/v1/jobs/${job.id}/history`);
    const validation = new Map(history.val_iterations.map((it, i) => [it, history.val_costs[i]]));
    drawCurve(view.curve, history.iterations.map((iteration, i) => ({
      iteration, cost: history.costs[i], validation: validation.get(iteration) ?? NaN,
    })), config.iter);
    const split = row.n_test > 0 ? "test" : "train";
    const report_ = await api("POST", `/v1/models/${model.id}/evaluate`, {
      json: { dataset_id: row.id, split },
    });
    const [key, label] = row.task === "regression" ? ["r2", "R²"] : ["accuracy", "accuracy"];
    view.score.textContent = `${split} ${label} ${report_[key].toFixed(3)}`;
    view.score.dataset.score = String(report_[key]);
    const blob = await api("GET",
      `/v1/models/${model.id}/decision-boundary.png?dataset_id=${row.id}`, { as: "blob" });
    view.image.src = URL.createObjectURL(blob);
    view.image.hidden = false;
    view.state.textContent = `Finished after ${final.result?.n_iter ?? config.iter} iterations.`;
  }

  async function run() {
    report.clearError();
    runButton.disabled = true;
    status.textContent = "Preparing the dataset…";
    try {
      const { row } = await dataset.ensure();
      dataset.keep();
      const views = configs.map(card);
      results.replaceChildren(...views.map((v) => v.node));
      status.textContent = `Training ${configs.length} configurations on ${row.name}…`;
      const outcomes = await Promise.allSettled(configs.map((c, i) => runOne(c, views[i], row)));
      const failed = outcomes.find((o) => o.status === "rejected");
      if (failed) report.error(failed.reason);
      status.textContent = "All configurations finished.";
    } catch (error) {
      status.textContent = "";
      report.error(error);
    } finally {
      runButton.disabled = false;
    }
  }

  async function preset(name) {
    configs = PRESETS[name].map((c) => ({ ...c }));
    page.cmpset = name;
    render();
    save();
    await chooseCircle();
    await run();
  }

  addButton.addEventListener("click", () => {
    configs.push({ ...configs[configs.length - 1], name: `configuration ${configs.length + 1}` });
    render();
    save({ edited: true });
    list.querySelector("li:last-child input")?.focus();
  });
  runButton.addEventListener("click", run);
  document.getElementById("preset-relu-linear").addEventListener("click", () => {
    preset("relu-linear");
  });
  document.getElementById("preset-deep-linear").addEventListener("click", () => {
    preset("deep-linear");
  });
  render();
  save();
}
