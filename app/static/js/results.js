// The results panel: the decision boundary of the chosen model, predicting one point, and the
// list of models with their parameter versions.

import { api } from "./api.js";
import { hasStage } from "./metrics.js";

const MODELS_SHOWN = 20;

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function percent(p) {
  return `${(100 * p).toFixed(1)}%`;
}

const HEADLINE_SCORES = ["accuracy", "r2", "mse"];

/** "train accuracy 0.988 · validation accuracy 0.975" from a version's metrics. */
function scoreLine(metrics) {
  const parts = [];
  for (const split of ["train", "validation"]) {
    const scores = metrics?.[split];
    const key = HEADLINE_SCORES.find((name) => typeof scores?.[name] === "number");
    if (key) parts.push(`${split} ${key === "r2" ? "R²" : key} ${scores[key].toFixed(3)}`);
  }
  return parts;
}

function versionLine(version) {
  const origin = version.version === 0 ? "initialization" : version.note || `job ${version.job_id}`;
  const current = version.current ? " (current)" : "";
  return [`v${version.version}${current}: ${origin}`, ...scoreLine(version.metrics)].join(" · ");
}

/** Wire the results panel. */
export function createResultsPanel({ report }) {
  const image = document.getElementById("boundary");
  const caption = document.getElementById("boundary-caption");
  const form = document.getElementById("predict-form");
  const inputs = document.getElementById("predict-inputs");
  const predictButton = document.getElementById("predict");
  const output = document.getElementById("prediction");
  const list = document.getElementById("models");
  let model = null;
  let imageUrl = null;

  function setDataset(row) {
    renderInputs(row.feature_names);
    const columns = hasStage(model) ? model.architecture.input_schema.length : model?.n_inputs;
    if (model && columns !== row.n_features) clearModel();
  }

  function renderInputs(names) {
    const fields = names.map((name, i) => {
      const id = `predict-${i}`;
      const input = element("input", undefined, {
        id, name: `x${i}`, type: "number", step: "any", value: "0", required: "",
      });
      return [element("label", name, { for: id }), input];
    });
    inputs.replaceChildren(...fields.flat());
  }

  function clearModel() {
    model = null;
    predictButton.disabled = true;
    image.hidden = true;
    caption.textContent = "The decision boundary appears after training.";
  }

  async function showBoundary() {
    if (hasStage(model)) {
      image.hidden = true;
      caption.textContent = "This model's inputs go through its preprocessing (derived "
        + "features): its boundary is the output map under Inside the network.";
      return;
    }
    if (model.n_inputs !== 2 || !model.dataset_id) {
      image.hidden = true;
      caption.textContent = "A decision boundary needs a model of two features.";
      return;
    }
    const params = new URLSearchParams({ dataset_id: model.dataset_id });
    const path = `/v1/models/${model.id}/decision-boundary.png?${params}`;
    const blob = await api("GET", path, { as: "blob" });
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    imageUrl = URL.createObjectURL(blob);
    image.src = imageUrl;
    image.alt = `Decision boundary of ${model.name}, version ${model.current_version}, `
      + "over its dataset";
    image.hidden = false;
    caption.textContent = `${model.name} · version ${model.current_version}`;
  }

  /** Make `chosen` the model whose boundary is shown and which answers predictions. */
  async function showModel(chosen) {
    model = chosen;
    // A model with a preprocessing stage takes its raw columns, not its encoded inputs.
    const columns = hasStage(chosen) ? chosen.architecture.input_schema.map((c) => c.name)
      : Array.from({ length: chosen.n_inputs }, (_, i) => `x${i + 1}`);
    if (inputs.querySelectorAll("input").length !== columns.length) renderInputs(columns);
    predictButton.disabled = false;
    output.textContent = "";
    refreshModels();
    try {
      await showBoundary();
    } catch (error) {
      image.hidden = true;
      caption.textContent = "The decision boundary could not be drawn.";
      report.error(error);
    }
  }

  async function predict(event) {
    event.preventDefault();
    if (!model) return;
    const values = [...inputs.querySelectorAll("input")].map((input) => Number(input.value));
    if (values.some((v) => !Number.isFinite(v)) || !form.checkValidity()) {
      output.textContent = "Enter a number in every box.";
      return;
    }
    try {
      const answer = await api("POST", `/v1/models/${model.id}/predict`, {
        json: { inputs: [values] },
      });
      const predicted = answer.predictions[0];
      if (answer.probabilities) {
        const index = answer.classes.findIndex((c) => String(c) === String(predicted));
        const p = answer.probabilities[0][index];
        output.textContent = `Class ${predicted} with probability ${percent(p)}`;
      } else {
        const value = Array.isArray(predicted) ? predicted.map((v) => v.toPrecision(4)).join(", ")
          : predicted.toPrecision(4);
        output.textContent = `Predicted value ${value}`;
      }
    } catch (error) {
      output.textContent = "";
      report.error(error);
    }
  }

  async function loadVersions(details, target, modelId) {
    if (details.dataset.loaded) return;
    details.dataset.loaded = "yes";
    try {
      const versions = await api("GET", `/v1/models/${modelId}/versions`);
      target.replaceChildren(...versions.map((v) => element("li", versionLine(v))));
    } catch (error) {
      delete details.dataset.loaded;
      report.error(error);
    }
  }

  function modelItem(item) {
    const li = element("li", undefined, { class: "model" });
    const title = element("span", item.name, { class: "model-name" });
    const facts = element("span",
      ` ${item.id} · ${item.n_parameters} parameters · v${item.current_version} · ${item.status}`,
      { class: "subtle" });
    const use = element("button", "Show", {
      type: "button", "aria-label": `Show ${item.name} (${item.id})`,
    });
    use.addEventListener("click", () => showModel(item));
    const details = element("details");
    details.append(element("summary", "Versions"));
    const versions = element("ul", undefined, { class: "versions" });
    details.append(versions);
    details.addEventListener("toggle", () => {
      if (details.open) loadVersions(details, versions, item.id);
    });
    if (model?.id === item.id) li.classList.add("current");
    li.append(title, facts, use, details);
    return li;
  }

  async function refreshModels() {
    try {
      const page = await api("GET", `/v1/models?limit=${MODELS_SHOWN}`);
      list.replaceChildren(...page.items.map(modelItem));
      if (page.items.length === 0) list.append(element("li", "No models yet."));
    } catch (error) {
      report.error(error);
    }
  }

  form.addEventListener("submit", predict);
  document.getElementById("refresh-models").addEventListener("click", refreshModels);
  return { setDataset, showModel, refreshModels };
}
