// "Inside the network": the network drawn as in the TensorFlow Playground (every neuron a small
// heat map of its output, edges coloured by the weight's sign and as thick as it is large), the
// output over the data, and play / pause / step / reset, all redrawn from the live job.

import { ApiError, api } from "./api.js";
import { drawGrid, scaleFor } from "./heatmap.js";
import { readMapsFile } from "./mapsfile.js";
import { CLASS_COLOURS } from "./plots.js";
import { DERIVED_FEATURES } from "./state.js";

const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 350;
const RESOLUTION = 24;
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const VIEW = { width: 600, height: 260, margin: 34 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function svg(tag, attributes = {}, children = []) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

function title(text) {
  const node = svg("title");
  node.textContent = text;
  return node;
}

/** The data's extent with a margin, as the service's decision plots use it. */
export function dataExtent(features) {
  const low = [Infinity, Infinity];
  const high = [-Infinity, -Infinity];
  for (const row of features) {
    for (const i of [0, 1]) {
      low[i] = Math.min(low[i], row[i]);
      high[i] = Math.max(high[i], row[i]);
    }
  }
  if (!Number.isFinite(low[0]) || !Number.isFinite(low[1])) return [-6, 6, -6, 6];
  const margin = [0, 1].map((i) => Math.max(0.1 * (high[i] - low[i]), 0.5));
  return [low[0] - margin[0], high[0] + margin[0], low[1] - margin[1], high[1] + margin[1]];
}

function range(values) {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  return [low, high];
}

function format(value) {
  return Number.isFinite(value) ? value.toFixed(4) : "–";
}

/** Wire the panel; `train()` starts a new run (the training panel's Train button). */
export function createLivePanel({ config, report, dataset, train, onChange }) {
  const field = (id) => document.getElementById(id);
  const view = field("net-view");
  const hover = field("net-hover");
  const outputCanvas = field("output-map");
  const buttons = { play: field("play"), pause: field("pause"), step: field("step") };
  const stepSize = field("step-size");
  let current = null; // {job, model, row, extent}
  let built = null; // {key, neurons: [[{image, frame}]], edges: [[line]]}
  let derivedSupported = true;
  let binaryMaps = true; // the compact form; JSON when the service does not offer it

  // Controls ---------------------------------------------------------------------------
  function showState(status) {
    const active = status === "queued" || status === "running";
    const paused = status === "paused";
    buttons.play.disabled = active;
    buttons.play.textContent = paused ? "Resume" : "Play";
    buttons.pause.disabled = !active;
    buttons.step.disabled = !paused;
    field("job-state").textContent = status ?? "not started";
  }

  async function control(action, json) {
    if (!current) return;
    report.clearError();
    try {
      const job = await api("POST", `/v1/jobs/${current.job.id}/${action}`, { json });
      showState(job.status);
    } catch (error) {
      report.error(error);
    }
  }

  buttons.play.addEventListener("click", () => {
    if (current && field("job-state").textContent === "paused") control("resume");
    else train();
  });
  buttons.pause.addEventListener("click", () => control("pause"));
  buttons.step.addEventListener("click", () => {
    const iterations = Number(stepSize.value);
    if (!Number.isInteger(iterations) || iterations < 1) {
      report.error(new Error("the step must be a whole number of iterations, at least 1"));
      return;
    }
    buttons.step.disabled = true;
    control("step", { iterations });
  });
  field("reset").addEventListener("click", async () => {
    // A job still training is cancelled; a finished one is only cleared from the view.
    const job = TERMINAL.has(field("job-state").textContent) ? null : current?.job;
    current = null;
    built = null;
    view.replaceChildren();
    outputCanvas.getContext("2d").clearRect(0, 0, outputCanvas.width, outputCanvas.height);
    showNumbers(null);
    showState(null);
    if (job) await api("POST", `/v1/jobs/${job.id}/cancel`).catch(() => {});
  });

  // Input features ------------------------------------------------------------------------
  function renderFeatures() {
    const box = field("feature-toggles");
    const toggle = (name, { checked, disabled }) => {
      const id = `feature-${name.replace(/[^a-z0-9]/gi, "_")}`;
      const input = document.createElement("input");
      Object.assign(input, { type: "checkbox", id, checked, disabled });
      input.dataset.feature = name;
      input.addEventListener("change", () => {
        config.feat = DERIVED_FEATURES.filter((f) => f === name ? input.checked
          : config.feat.includes(f));
        onChange();
      });
      const label = document.createElement("label");
      label.className = "check";
      label.htmlFor = id;
      label.append(input, ` ${name}`);
      return label;
    };
    const always = ["x1", "x2"].map((name) => toggle(name, { checked: true, disabled: true }));
    const derived = derivedSupported
      ? DERIVED_FEATURES.map((name) => toggle(name, {
        checked: config.feat.includes(name), disabled: false,
      }))
      : [];
    box.replaceChildren(...always, ...derived);
    field("features-note").hidden = derivedSupported;
  }

  /** The service takes no derived features: hide their toggles, keep x1 and x2. */
  function noDerivedFeatures() {
    if (!derivedSupported) return;
    derivedSupported = false;
    renderFeatures();
  }

  // The picture of the network ---------------------------------------------------------
  function columnsOf(maps) {
    // Each input feature the network sees (x1, x2 and the derived ones, as the model's
    // preprocessing scaled them) is a heat map of its own, on its own scale.
    const inputs = maps.input_names.map((name, i) => ({
      name: `input ${name}`,
      values: maps.inputs[i],
      scale: scaleFor("input", ...range(maps.inputs[i])),
    }));
    const layers = maps.layers.map((layer) => {
      const scale = scaleFor(layer.activation, layer.min, layer.max);
      return layer.values.map((values, u) => ({
        name: `layer ${layer.layer} unit ${u + 1} (${layer.activation})`, values, scale,
        bias: layer.b[u],
      }));
    });
    return [inputs, ...layers];
  }

  function build(columns, maps) {
    const { width, height, margin } = VIEW;
    const most = Math.max(...columns.map((c) => c.length));
    const size = Math.max(16, Math.min(40, (height - 20) / most - 8));
    // Room on the left for the input features' names.
    const left = margin + 40;
    const x = (i) => left + (i * (width - left - margin)) / Math.max(1, columns.length - 1);
    const y = (j, n) => height / 2 + (j - (n - 1) / 2) * (size + 8);
    const edgeLayer = svg("g", { class: "edges" });
    const nodeLayer = svg("g", { class: "neurons" });
    const edges = maps.layers.map((layer, l) => layer.W.map((row, j) => row.map((w, i) => {
      const line = svg("line", {
        x1: x(l) + size / 2, y1: y(i, columns[l].length),
        x2: x(l + 1) - size / 2, y2: y(j, columns[l + 1].length), class: "edge",
      });
      line.append(title(""));
      line.addEventListener("mouseenter", () => {
        hover.textContent = line.querySelector("title").textContent;
      });
      edgeLayer.append(line);
      return line;
    })));
    const neurons = columns.map((column, l) => column.map((neuron, j) => {
      const cx = x(l);
      const cy = y(j, column.length);
      const image = svg("image", { x: cx - size / 2, y: cy - size / 2, width: size, height: size });
      const frame = svg("rect", {
        x: cx - size / 2, y: cy - size / 2, width: size, height: size, class: "neuron-frame",
      });
      const group = svg("g", { class: "neuron", tabindex: 0, role: "img" }, [image, frame]);
      group.append(title(neuron.name));
      const say = () => {
        hover.textContent = group.getAttribute("aria-label");
      };
      group.addEventListener("mouseenter", say);
      group.addEventListener("focus", say);
      nodeLayer.append(group);
      return { image, group };
    }));
    const labels = columns.map((column, l) => {
      const text = svg("text", { x: x(l), y: 12, class: "column-label", "text-anchor": "middle" });
      text.textContent = l === 0 ? "inputs" : l === columns.length - 1 ? "output" : `layer ${l}`;
      return text;
    });
    const names = columns[0].map((neuron, j) => {
      const text = svg("text", {
        x: x(0) - size / 2 - 4, y: y(j, columns[0].length) + 4, class: "input-label",
        "text-anchor": "end", "aria-hidden": "true",
      });
      text.textContent = neuron.name.replace(/^input /, "");
      return text;
    });
    view.replaceChildren(edgeLayer, nodeLayer, ...labels, ...names);
    return { neurons, edges };
  }

  function draw(maps) {
    const columns = columnsOf(maps);
    const key = [maps.input_names.join(","), ...columns.map((c) => c.length)].join("-");
    if (!built || built.key !== key) built = { key, ...build(columns, maps) };
    const cell = document.createElement("canvas");
    cell.width = maps.resolution;
    cell.height = maps.resolution;
    columns.forEach((column, l) => column.forEach((neuron, j) => {
      drawGrid(cell, neuron.values, maps.resolution, neuron.scale);
      const { image, group } = built.neurons[l][j];
      image.setAttribute("href", cell.toDataURL());
      const [low, high] = range(neuron.values);
      const bias = neuron.bias === undefined ? "" : `, bias ${neuron.bias.toFixed(3)}`;
      group.setAttribute("aria-label", `${neuron.name}: output from ${low.toFixed(3)} to `
        + `${high.toFixed(3)}${bias}`);
    }));
    let largest = 1e-9;
    for (const layer of maps.layers) for (const row of layer.W) for (const w of row) {
      largest = Math.max(largest, Math.abs(w));
    }
    maps.layers.forEach((layer, l) => layer.W.forEach((row, j) => row.forEach((w, i) => {
      const line = built.edges[l][j][i];
      line.setAttribute("stroke", w >= 0 ? "#1a73e8" : "#e8710a");
      line.setAttribute("stroke-width", (0.5 + 5 * Math.abs(w) / largest).toFixed(2));
      line.dataset.weight = String(w);
      const from = l === 0 ? maps.input_names[i] : `layer ${l} unit ${i + 1}`;
      line.querySelector("title").textContent = `weight from ${from} to layer ${l + 1} unit `
        + `${j + 1}: ${w.toFixed(4)}`;
    })));
    const output = maps.layers[maps.layers.length - 1];
    drawOutput(output, maps);
    view.dataset.iteration = String(maps.iteration ?? 0);
    view.dataset.inputs = maps.input_names.join(" ");
    view.dataset.signature = Array.from(output.values[0].slice(0, 50), (v) => v.toFixed(4))
      .join(",");
  }

  function drawOutput(output, maps) {
    const multiclass = output.units > 1 && output.activation === "softmax";
    const classOf = multiclass ? (k) => {
      let best = 0;
      for (let u = 1; u < output.units; u += 1) {
        if (output.values[u][k] > output.values[best][k]) best = u;
      }
      return best;
    } : null;
    // A binary output is P(class 1): its 0.5 line is the boundary. Class 0 shows orange.
    drawGrid(outputCanvas, output.values[0], maps.resolution,
      scaleFor(output.activation, output.min, output.max), classOf, 0.45);
    const data = dataset.current()?.data;
    if (!data) return;
    const ctx = outputCanvas.getContext("2d");
    const [x0, x1, y0, y1] = maps.extent;
    const classes = current?.row?.classes ?? null;
    data.features.forEach((row, i) => {
      const px = ((row[0] - x0) / (x1 - x0)) * outputCanvas.width;
      const py = outputCanvas.height - ((row[1] - y0) / (y1 - y0)) * outputCanvas.height;
      const index = classes ? Math.max(0, classes.indexOf(data.targets[i])) : 0;
      ctx.beginPath();
      ctx.arc(px, py, 2.5, 0, 2 * Math.PI);
      ctx.fillStyle = classes ? CLASS_COLOURS[index % CLASS_COLOURS.length] : "#3c4043";
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 0.75;
      if (data.split[i] === "test") ctx.stroke();
      else {
        ctx.fill();
        ctx.stroke();
      }
    });
  }

  // Following a job ----------------------------------------------------------------------
  function showNumbers(progress) {
    field("iteration-count").textContent = String(progress?.iteration ?? 0);
    field("train-loss").textContent = format(progress?.cost);
    field("test-loss").textContent = format(progress?.val_cost);
  }

  async function fetchMaps(state) {
    const [x1Min, x1Max, x2Min, x2Max] = state.extent;
    const query = new URLSearchParams({
      resolution: String(RESOLUTION), x1_min: x1Min, x1_max: x1Max, x2_min: x2Min, x2_max: x2Max,
    });
    const path = `/v1/jobs/${state.job.id}/neuron-maps`;
    try {
      const maps = await getMaps(path, query);
      if (current === state) draw(maps);
    } catch (error) {
      if (error.code === "not_two_inputs") {
        hover.textContent = "Neuron maps need a model with two numeric input columns.";
      } else if (current === state) {
        throw error;
      }
    }
  }

  /** The maps in binary form (about half the bytes of JSON, no number parsing), else JSON. */
  async function getMaps(path, query) {
    if (binaryMaps) {
      try {
        const buffer = await api("GET", `${path}?${query}&format=binary`, { as: "arrayBuffer" });
        return readMapsFile(buffer);
      } catch (error) {
        // A service without the binary form refuses the format (422) or the media type (406).
        const refused = error instanceof ApiError && (error.status === 406
          || (error.status === 422 && error.fields.some((f) => /format/.test(f.field ?? ""))));
        if (!refused) throw error;
        binaryMaps = false;
      }
    }
    return api("GET", `${path}?${query}`);
  }

  async function follow(state) {
    let drawnAt = -1;
    let lastStatus = null;
    while (current === state) {
      const job = await api("GET", `/v1/jobs/${state.job.id}`);
      if (current !== state) return;
      const iteration = job.progress?.iteration ?? 0;
      showNumbers(job.progress);
      showState(job.status);
      if (iteration !== drawnAt || job.status !== lastStatus) {
        await fetchMaps(state);
        drawnAt = iteration;
        lastStatus = job.status;
      }
      if (TERMINAL.has(job.status)) return;
      await sleep(POLL_MS);
    }
  }

  renderFeatures();
  showState(null);
  return {
    noDerivedFeatures,
    /** Whether POST /v1/models takes derived features (as far as the page knows). */
    derivedSupported: () => derivedSupported,
    /** A job of the training panel started: follow it. */
    jobStarted(job, model, row) {
      const data = dataset.current()?.data;
      const extent = dataExtent(data?.features ?? []);
      current = { job, model, row, extent };
      built = null;
      showState(job.status);
      follow(current).catch((error) => {
        if (current) report.error(error);
      });
    },
  };
}
