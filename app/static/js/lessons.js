// The Lessons tab: the notes' exercises on the live API. Affine maps (match three matrices with
// three pictures), every activation and its derivative, and initial weights against the
// variances of Glorot and He.

import { api } from "./api.js";
import { NOTES_MATRICES, PICTURE_ORDER, drawAffine } from "./affine.js";
import { MAX_UNITS } from "./state.js";

const LETTERS = ["A", "B", "C"];

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function matrixText(W) {
  return `W = [[${W[0].join(", ")}], [${W[1].join(", ")}]]`;
}

/** Glorot's and He's variance of a layer's weights, from its fan-in and fan-out. */
export function initVariances(fanIn, fanOut) {
  return { glorot: 2 / (fanIn + fanOut), he: 2 / fanIn, notes: 1 / ((fanIn + fanOut) / 2) };
}

function createAffineLesson() {
  const matrices = document.getElementById("affine-matrices");
  const pictures = document.getElementById("affine-pictures");
  const result = document.getElementById("affine-result");
  matrices.replaceChildren(...NOTES_MATRICES.map((W) => element("li", { text: matrixText(W) })));
  const selects = PICTURE_ORDER.map((matrix, i) => {
    const canvas = element("canvas", {
      class: "plot square", width: "200", height: "200", role: "img",
      "aria-label": `Picture ${LETTERS[i]}: the grid and the unit square after one of the maps`,
    });
    drawAffine(canvas, NOTES_MATRICES[matrix], [0, 0]);
    const id = `affine-answer-${i}`;
    const select = element("select", { id }, [
      element("option", { value: "", text: "choose…" }),
      ...NOTES_MATRICES.map((_, m) => element("option", { value: String(m), text: `${m + 1}` })),
    ]);
    pictures.append(element("figure", { class: "affine-picture" }, [
      canvas,
      element("figcaption", {}, [element("label", { for: id, text: `Picture ${LETTERS[i]}: matrix ` }),
        select]),
    ]));
    return select;
  });
  document.getElementById("affine-check").addEventListener("click", () => {
    const right = selects.filter((select, i) => select.value === String(PICTURE_ORDER[i]));
    selects.forEach((select, i) => {
      select.dataset.correct = String(select.value === String(PICTURE_ORDER[i]));
    });
    result.dataset.right = String(right.length);
    result.textContent = right.length === selects.length
      ? "All three right: [1, 1] goes to [1, -1], [-1, 1] and [-1, -1]."
      : `${right.length} of ${selects.length} right. Hint: follow the orange point [1, 1].`;
  });

  const free = document.getElementById("affine-free");
  const ids = ["w11", "w12", "w21", "w22", "b1", "b2"];
  const drawFree = () => {
    const [w11, w12, w21, w22, b1, b2] = ids.map((id) => {
      const value = Number(document.getElementById(id).value);
      return Number.isFinite(value) ? value : 0;
    });
    drawAffine(free, [[w11, w12], [w21, w22]], [b1, b2]);
  };
  for (const id of ids) document.getElementById(id).addEventListener("input", drawFree);
  drawFree();
}

async function createActivationLesson(report) {
  const box = document.getElementById("activation-plots");
  let names = [];
  try {
    const answer = await api("GET", "/v1/activations");
    // Softmax has no derivative of one variable to draw: the hidden-layer ones do.
    names = answer.activations.filter((a) => a.hidden).map((a) => a.name);
  } catch (error) {
    report.error(error);
    return [];
  }
  const select = document.getElementById("weights-activation");
  select.replaceChildren(...names.map((name) => element("option", { value: name, text: name })));
  select.value = "relu";
  await Promise.all(names.map(async (name) => {
    const image = element("img", { alt: `${name} and its derivative`, class: "activation-plot" });
    box.append(element("figure", {}, [image, element("figcaption", { text: name })]));
    try {
      const blob = await api("GET", `/v1/activations/${name}.png`, { as: "blob" });
      image.src = URL.createObjectURL(blob);
    } catch (error) {
      report.error(error);
    }
  }));
  return names;
}

function createWeightsLesson(report) {
  const form = document.getElementById("weights-form");
  const image = document.getElementById("weights-image");
  const text = document.getElementById("weights-variances");
  let previous = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    report.clearError();
    const units = document.getElementById("weights-layers").value.split(",")
      .map((part) => Number(part.trim()));
    if (units.length === 0 || units.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_UNITS)) {
      report.error(new Error(`hidden units must be whole numbers from 1 to ${MAX_UNITS}, `
        + "separated by commas"));
      return;
    }
    const activation = document.getElementById("weights-activation").value;
    const init = document.getElementById("weights-init").value;
    const sizes = [2, ...units, 1];
    const lines = sizes.slice(1).map((fanOut, l) => {
      const v = initVariances(sizes[l], fanOut);
      return `W${l + 1} (${fanOut}×${sizes[l]}): Glorot ${v.glorot.toFixed(4)}, `
        + `He ${v.he.toFixed(4)}`;
    });
    text.textContent = `Variances: ${lines.join(" · ")}`;
    try {
      const model = await api("POST", "/v1/models", {
        json: {
          name: `weights ${init} ${units.join("-")}`, task: "binary", n_inputs: 2, init,
          hidden_layers: units.map((n) => ({ units: n, activation })),
        },
      });
      const blob = await api("GET", `/v1/models/${model.id}/weights.png`, { as: "blob" });
      if (image.src) URL.revokeObjectURL(image.src);
      image.src = URL.createObjectURL(blob);
      image.hidden = false;
      image.alt = `Histograms of the initial weights of ${units.join("-")} ${activation} with `
        + `${init} initialization, against Glorot's and He's distributions`;
      // The lesson's model is only a picture: remove the one it replaces.
      if (previous) api("DELETE", `/v1/models/${previous}`).catch(() => {});
      previous = model.id;
    } catch (error) {
      report.error(error);
    }
  });
}

/** Wire the Lessons tab once (its pictures load when the tab is first shown). */
export function createLessons({ report }) {
  let started = false;
  return {
    async show() {
      if (started) return;
      started = true;
      createAffineLesson();
      createWeightsLesson(report);
      await createActivationLesson(report);
    },
  };
}
