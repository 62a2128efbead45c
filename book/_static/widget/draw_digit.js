/* Draw a digit: the book's Inception-v2 (chapter 10's, trained on the digits) classifies a drawing in
 * the page, with ONNX Runtime Web on one thread. No server: the model and the runtime are files of the
 * site (_static/widget/digit_reader.onnx, _static/onnxruntime-web/).
 *
 * The drawing becomes the digits data set's format exactly as inception.drawing.fit_to_box and
 * block_counts do in Python (the site test checks the two agree):
 *   1. crop the ink (the canvas's alpha) to its bounding box;
 *   2. scale it so that its height fills 32 pixels and its width to what its proportions would give
 *      (rounded half up) brought into 20 to 24 pixels, centred across, by area averaging; a pixel is on
 *      where the average ink is at least one half (the data set's digits all fill the height, and 6 of
 *      the 8 block columns is the commonest width of every class);
 *   3. count the on pixels in each 4×4 block: an 8×8 image with values 0 to 16.
 * The network (inception.export.DigitReader) takes those counts and returns ten probabilities and the
 * channel-averaged outputs of the four branches of its first Inception module (Mixed_5b).
 */
(function () {
  "use strict";

  const SIZE = 32;        // the normalized bitmap's side
  const BLOCK = 4;        // 4×4 blocks -> 8×8 image
  const GRID = SIZE / BLOCK;
  const WIDTHS = [20, 24]; // the narrowest and widest a drawing is made across the box
  const PAD = 224;        // the drawing pad's side in pixels
  const PEN = 28;         // pen width in pixels (an eighth of the pad: about as bold as the data set's digits)
  const BRANCHES = ["1×1", "1×1 → 3×3", "1×1 → 3×3 → 3×3", "3×3 pool → 1×1"];

  const script = document.currentScript;
  const staticRoot = new URL("../", script.src);  // .../_static/

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  /* Adaptive average pooling's windows (PyTorch's): output i covers [floor(i·L/n), ceil((i+1)·L/n)). */
  function poolEdges(length, out) {
    const edges = [];
    for (let i = 0; i < out; i++) {
      edges.push([Math.floor((i * length) / out), Math.ceil(((i + 1) * length) / out)]);
    }
    return edges;
  }

  /* Steps 1 and 2: alpha (Uint8ClampedArray of width×height values 0..255) -> 32×32 on/off bitmap. */
  function fitToBox(alpha, width, height) {
    let top = height, bottom = -1, left = width, right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (alpha[y * width + x] > 0) {
          if (y < top) top = y;
          if (y > bottom) bottom = y;
          if (x < left) left = x;
          if (x > right) right = x;
        }
      }
    }
    const bitmap = new Uint8Array(SIZE * SIZE);
    if (bottom < 0) return bitmap;
    const cropH = bottom - top + 1, cropW = right - left + 1;
    const h = SIZE;
    const w = Math.min(WIDTHS[1], Math.max(WIDTHS[0], Math.floor((2 * cropW * SIZE + cropH) / (2 * cropH))));
    const offY = 0, offX = Math.floor((SIZE - w) / 2);
    const rows = poolEdges(cropH, h), cols = poolEdges(cropW, w);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let sum = 0;
        const [r0, r1] = rows[i], [c0, c1] = cols[j];
        for (let y = r0; y < r1; y++) {
          for (let x = c0; x < c1; x++) sum += alpha[(top + y) * width + left + x];
        }
        // on where the mean ink (alpha / 255) is at least 1/2: exact in integers
        bitmap[(offY + i) * SIZE + offX + j] = 2 * sum >= 255 * (r1 - r0) * (c1 - c0) ? 1 : 0;
      }
    }
    return bitmap;
  }

  /* Step 3: the on pixels of each 4×4 block: 8×8 values 0..16 (the digits data set's format). */
  function blockCounts(bitmap) {
    const counts = new Float32Array(GRID * GRID);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        counts[Math.floor(y / BLOCK) * GRID + Math.floor(x / BLOCK)] += bitmap[y * SIZE + x];
      }
    }
    return counts;
  }

  /* Paint values (row-major, side×side) on a small canvas, 0 white and `top` black. */
  function paintGrey(canvas, values, side, top) {
    const context = canvas.getContext("2d");
    const image = context.createImageData(side, side);
    for (let k = 0; k < side * side; k++) {
      const level = top > 0 ? Math.max(0, Math.min(1, values[k] / top)) : 0;
      const grey = Math.round(255 * (1 - level));
      image.data.set([grey, grey, grey, 255], 4 * k);
    }
    context.putImageData(image, 0, 0);
  }

  function loadRuntime() {
    if (window.ort) return Promise.resolve(window.ort);
    return new Promise((resolve, reject) => {
      const tag = element("script", { src: new URL("onnxruntime-web/ort.wasm.min.js", staticRoot).href });
      tag.onload = () => resolve(window.ort);
      tag.onerror = () => reject(new Error("could not load the site's copy of ONNX Runtime Web"));
      document.head.appendChild(tag);
    });
  }

  async function startSession() {
    const ort = await loadRuntime();
    ort.env.logLevel = "error";
    ort.env.wasm.numThreads = 1;  // no SharedArrayBuffer needed: works without special headers
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = new URL("onnxruntime-web/", staticRoot).href;
    const model = new URL("widget/digit_reader.onnx", staticRoot).href;
    const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
    return { ort, session };
  }

  function build(root) {
    root.replaceChildren();
    const pad = element("canvas", {
      width: PAD, height: PAD, class: "dd-pad", role: "img", tabindex: "0", id: "dd-pad",
      "aria-label": "Drawing pad: draw one digit, 0 to 9, with the mouse, a pen or a finger",
    });
    const clear = element("button", { type: "button", class: "dd-clear", text: "Clear" });
    const input = element("canvas", {
      width: GRID, height: GRID, class: "dd-input", role: "img",
      "aria-label": "The 8 by 8 image the network reads",
    });
    const bars = element("div", { class: "dd-bars", role: "list", "aria-label": "Class probabilities" });
    const rows = [];
    for (let d = 0; d < 10; d++) {
      const fill = element("span", { class: "dd-fill" });
      const value = element("span", { class: "dd-value", text: "–" });
      const row = element("div", { class: "dd-bar", role: "listitem" }, [
        element("span", { class: "dd-digit", text: String(d) }),
        element("span", { class: "dd-track", "aria-hidden": "true" }, [fill]), value]);
      rows.push({ row, fill, value });
      bars.appendChild(row);
    }
    const maps = BRANCHES.map((name, k) => element("canvas", {
      width: GRID, height: GRID, class: "dd-map", role: "img",
      "aria-label": `Mixed_5b branch ${k + 1} (${name}), averaged over its channels`,
    }));
    const status = element("p", { class: "dd-status", "aria-live": "polite", text: "Loading the network…" });
    root.append(
      element("div", { class: "dd-row" }, [
        element("figure", { class: "dd-figure" }, [
          pad, element("figcaption", {}, [element("span", { text: "Draw a digit here " }), clear]),
        ]),
        element("figure", { class: "dd-figure" }, [
          input, element("figcaption", { text: "What the network reads: 8×8, 0–16" }),
        ]),
        element("figure", { class: "dd-figure dd-probabilities" }, [
          bars, element("figcaption", { text: "Probabilities" }),
        ]),
      ]),
      element("div", { class: "dd-row dd-branches" }, maps.map((map, k) => element("figure", { class: "dd-figure" }, [
        map, element("figcaption", { text: `branch ${k + 1}: ${BRANCHES[k]}` }),
      ]))),
      status,
    );
    return { pad, clear, input, rows, maps, status };
  }

  function attach(root) {
    const view = build(root);
    const pen = view.pad.getContext("2d", { willReadFrequently: true });
    const state = {
      bitmap: null, counts: null, probabilities: null, branches: null, predicted: null, runs: 0, idle: true,
    };
    root.drawDigit = state;  // for the site test and the curious: what the widget computed last
    let session = null, busy = false, again = false, drawing = false, last = null;
    let drawingNumber = 0;  // Clear starts a new drawing: a reading of the old one is then dropped

    function showEmpty(message) {
      for (const { fill, value } of view.rows) { fill.style.width = "0%"; value.textContent = "–"; }
      paintGrey(view.input, new Float32Array(GRID * GRID), GRID, 16);
      for (const map of view.maps) paintGrey(map, new Float32Array(GRID * GRID), GRID, 1);
      view.status.textContent = message;
    }

    function show(probabilities, branches) {
      let best = 0;
      probabilities.forEach((p, d) => {
        view.rows[d].fill.style.width = `${(100 * p).toFixed(1)}%`;
        view.rows[d].value.textContent = `${(100 * p).toFixed(1)}%`;
        view.rows[d].row.classList.toggle("dd-best", false);
        if (p > probabilities[best]) best = d;
      });
      view.rows[best].row.classList.add("dd-best");
      branches.forEach((values, k) => paintGrey(view.maps[k], values, GRID, Math.max(...values)));
      if (!drawing) {  // the live region speaks once a stroke ends, not on every frame of it
        const text = Array.from(probabilities, (p, d) => `${d}: ${(100 * p).toFixed(1)}%`).join(", ");
        view.status.textContent = `The network reads ${best} (${(100 * probabilities[best]).toFixed(1)}%). `
          + `All probabilities: ${text}.`;
      }
      return best;
    }

    async function classify() {
      if (!session) return;
      if (busy) { again = true; return; }
      busy = true;
      state.idle = false;  // true again once the pad's latest ink has been read and classified
      const number = drawingNumber;
      try {
        const pixels = pen.getImageData(0, 0, PAD, PAD).data;
        const alpha = new Uint8ClampedArray(PAD * PAD);
        for (let k = 0; k < PAD * PAD; k++) alpha[k] = pixels[4 * k + 3];
        const bitmap = fitToBox(alpha, PAD, PAD);
        const counts = blockCounts(bitmap);
        paintGrey(view.input, counts, GRID, 16);
        if (!bitmap.some((v) => v)) { showEmpty("Draw a digit on the pad."); return; }
        const feeds = { counts: new session.ort.Tensor("float32", counts, [1, 1, GRID, GRID]) };
        const out = await session.session.run(feeds);
        if (number !== drawingNumber) return;  // the pad was cleared meanwhile
        const probabilities = Array.from(out.probabilities.data);
        const branches = ["branch1", "branch2", "branch3", "branch4"].map((name) => Array.from(out[name].data));
        const predicted = show(probabilities, branches);
        Object.assign(state, {
          bitmap: Array.from(bitmap), counts: Array.from(counts), probabilities, branches, predicted,
          runs: state.runs + 1,
        });
      } catch (error) {
        view.status.textContent = `The network could not run: ${error.message}`;
      } finally {
        busy = false;
        if (again) { again = false; classify(); } else state.idle = true;
      }
    }

    function point(event) {
      // the pad's pixels start inside its border (clientLeft, clientTop) and span clientWidth × clientHeight
      const box = view.pad.getBoundingClientRect(), pad = view.pad;
      return [(event.clientX - box.left - pad.clientLeft) * (PAD / pad.clientWidth),
        (event.clientY - box.top - pad.clientTop) * (PAD / pad.clientHeight)];
    }

    function stroke(to) {
      pen.lineWidth = PEN;
      pen.lineCap = "round";
      pen.lineJoin = "round";
      pen.strokeStyle = "#000";
      pen.beginPath();
      pen.moveTo(...last);
      pen.lineTo(...to);
      pen.stroke();
      last = to;
    }

    view.pad.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      view.pad.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      stroke(last);
      requestAnimationFrame(classify);
    });
    view.pad.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      event.preventDefault();
      stroke(point(event));
      requestAnimationFrame(classify);
    });
    for (const type of ["pointerup", "pointercancel"]) {
      view.pad.addEventListener(type, () => { drawing = false; classify(); });
    }
    function clearPad() {
      drawingNumber += 1;
      pen.clearRect(0, 0, PAD, PAD);
      Object.assign(state, { bitmap: null, counts: null, probabilities: null, branches: null, predicted: null });
      showEmpty(session ? "Draw a digit on the pad." : view.status.textContent);
    }
    view.clear.addEventListener("click", clearPad);
    view.pad.addEventListener("keydown", (event) => {
      if (event.key === "Delete" || event.key === "Backspace") clearPad();
    });

    showEmpty("Loading the network…");
    if (location.protocol === "file:") {
      root.dataset.state = "unavailable";
      showEmpty("The drawing pad needs the site served over http(s) (a browser does not let a page opened "
        + "from disk load the network): run `python -m http.server` in _build/html and open it there.");
      return;
    }
    startSession().then((started) => {
      session = started;
      root.dataset.state = "ready";
      showEmpty("Draw a digit on the pad.");
    }).catch((error) => {
      root.dataset.state = "failed";
      showEmpty(`The network could not be loaded: ${error.message}`);
    });
  }

  function start() {
    for (const root of document.querySelectorAll("#draw-digit")) attach(root);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
