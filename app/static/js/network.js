// The network panel: hidden layers (units and activation), output activation by task, init,
// seed, and the parameter count as the architecture changes.

import {
  HIDDEN_ACTIVATIONS,
  MAX_LAYERS,
  MAX_UNITS,
  generatorTask,
  outputChoices,
  parameterCount,
} from "./state.js";

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** Wire the network panel; `onChange()` runs after every change of the configuration. */
export function createNetworkPanel({ config, onChange }) {
  const list = document.getElementById("layers");
  const addButton = document.getElementById("add-layer");
  const output = document.getElementById("output");
  const init = document.getElementById("init");
  const seed = document.getElementById("seed");
  const count = document.getElementById("param-count");
  const architecture = document.getElementById("architecture");
  // What the current dataset says; until one is loaded, what its generator will give.
  let shape = { task: "binary", nInputs: 2, nOutputs: 1 };

  function layerItem(layer, index) {
    const unitsId = `layer-${index}-units`;
    const activationId = `layer-${index}-activation`;
    const units = element("input", {
      id: unitsId, type: "number", min: "1", max: String(MAX_UNITS), step: "1",
      value: String(layer.units), inputmode: "numeric",
    });
    units.addEventListener("input", () => {
      const value = Number(units.value);
      if (Number.isInteger(value) && value >= 1 && value <= MAX_UNITS) {
        config.layers[index].units = value;
        changed(false);
      }
    });
    const select = element("select", { id: activationId },
      HIDDEN_ACTIVATIONS.map((name) => element("option", { value: name, text: name })));
    select.value = layer.activation;
    select.addEventListener("change", () => {
      config.layers[index].activation = select.value;
      changed(false);
    });
    const remove = element("button", {
      type: "button", class: "remove", "aria-label": `Remove hidden layer ${index + 1}`,
      text: "Remove",
    });
    remove.addEventListener("click", () => {
      config.layers.splice(index, 1);
      changed(true);
      (list.querySelector(".remove") ?? addButton).focus();
    });
    return element("li", { class: "layer" }, [
      element("span", { class: "layer-name", text: `Hidden layer ${index + 1}` }),
      element("label", { for: unitsId, text: "Units" }), units,
      element("label", { for: activationId, text: "Activation" }), select,
      remove,
    ]);
  }

  function renderLayers() {
    list.replaceChildren(...config.layers.map(layerItem));
    if (config.layers.length === 0) {
      list.append(element("li", { class: "empty", text: "No hidden layer: logistic regression." }));
    }
    addButton.disabled = config.layers.length >= MAX_LAYERS;
  }

  function renderOutputs() {
    const choices = outputChoices(shape.task);
    output.replaceChildren(
      element("option", { value: "auto", text: `auto (${choices[0]})` }),
      ...choices.map((name) => element("option", { value: name, text: name })),
    );
    if (!["auto", ...choices].includes(config.output)) config.output = "auto";
    output.value = config.output;
  }

  function renderSummary() {
    const total = parameterCount(shape.nInputs, config.layers, shape.nOutputs);
    count.textContent = total.toLocaleString("en");
    const outputName = config.output === "auto" ? outputChoices(shape.task)[0] : config.output;
    const parts = [`${shape.nInputs} inputs`,
      ...config.layers.map((l) => `${l.units} ${l.activation}`),
      `${shape.nOutputs} ${outputName}`];
    architecture.textContent = parts.join(" → ");
  }

  function changed(structure) {
    if (structure) renderLayers();
    renderSummary();
    onChange();
  }

  addButton.addEventListener("click", () => {
    const last = config.layers[config.layers.length - 1];
    config.layers.push({ units: last?.units ?? 4, activation: last?.activation ?? "tanh" });
    changed(true);
    list.querySelector("li:last-child input")?.focus();
  });
  output.addEventListener("change", () => {
    config.output = output.value;
    changed(false);
  });
  init.addEventListener("change", () => {
    config.init = init.value;
    onChange();
  });
  seed.addEventListener("input", () => {
    const value = Number(seed.value);
    if (Number.isInteger(value) && value >= 0) {
      config.seed = value;
      onChange();
    }
  });

  /** Follow the dataset: its task, number of features and classes fix the ends of the net. */
  function setDataset(row) {
    const nOutputs = row.task === "multiclass" ? row.classes.length : 1;
    shape = { task: row.task, nInputs: row.n_features, nOutputs };
    renderOutputs();
    renderSummary();
  }

  /** Before a dataset arrives, guess its shape from the generator settings. */
  function expectGenerator() {
    if (config.source !== "generate") return;
    const task = generatorTask(config.kind, config.classes);
    shape = { task, nInputs: 2, nOutputs: task === "multiclass" ? config.classes : 1 };
    renderOutputs();
    renderSummary();
  }

  init.value = config.init;
  seed.value = String(config.seed);
  expectGenerator();
  renderLayers();
  return {
    setDataset,
    expectGenerator,
    /** Show the activation lists again (after they came from the service). */
    refreshActivations() {
      renderLayers();
      renderOutputs();
      renderSummary();
    },
    /**
     * The body of POST /v1/models for the shown dataset; `derived` says whether to send the
     * derived input features toggled on (only sent when there is at least one).
     */
    modelBody(datasetRow, { derived = true } = {}) {
      const layers = config.layers.map((l) => `${l.units}${l.activation}`).join("-") || "linear";
      const body = {
        name: `${datasetRow.name} ${layers}`.slice(0, 200),
        dataset_id: datasetRow.id,
        hidden_layers: config.layers.map((l) => ({ units: l.units, activation: l.activation })),
        init: config.init,
        seed: config.seed,
      };
      if (config.output !== "auto") body.output_activation = config.output;
      if (derived && config.feat.length > 0) body.derived_features = [...config.feat];
      return body;
    },
  };
}
