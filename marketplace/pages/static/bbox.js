/* The 2D box surface: draw, move, resize, label and delete boxes on the image with a
   mouse, a finger or the keys, in the image's own pixels (the drawing's viewBox is the
   image's size, whatever size it is shown at). Every box has fields for its numbers;
   the drawing and the fields mirror each other, and the fields are what is sent. */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const KEYS = ["x", "y", "w", "h"];

  function start(root) {
    const W = Number(root.dataset.width) || 100;
    const H = Number(root.dataset.height) || 100;
    const svg = root.querySelector(".bbox-svg");
    const list = root.querySelector(".box-rows");
    const template = root.querySelector(".box-row-template");
    const status = root.querySelector(".bbox-status");
    /* Image pixels to one pixel on screen: handles and labels keep a size a finger and
       an eye can use, however small the image is shown. */
    function perPixel() {
      const shown = svg.getBoundingClientRect().width;
      return shown > 0 ? W / shown : 1;
    }
    let boxes = readRows();
    let selected = boxes.length ? 0 : -1;
    let drag = null;
    /* The server's answer beside a box's field, kept when the rows are drawn anew. */
    let serverErrors = {};
    root.querySelectorAll(".box-row [data-error-for]:not([hidden])").forEach(function (slot) {
      serverErrors[slot.dataset.errorFor] = slot.textContent;
    });

    function readRows() {
      return Array.from(list.querySelectorAll(".box-row")).map(function (row) {
        const box = {};
        row.querySelectorAll("input[data-key]").forEach(function (input) {
          box[input.dataset.key] = input.dataset.key === "label" ? input.value : input.value === "" ? "" : Number(input.value);
        });
        return box;
      }).filter(function (box) {
        return KEYS.some(function (k) { return box[k] !== ""; }) || box.label;
      });
    }

    /* The rows of fields, one a box, from the template the server rendered. */
    function renderRows() {
      list.textContent = "";
      boxes.forEach(function (box, i) {
        const html = template.innerHTML.replace(/999999/g, String(i)).replace(/1000000/g, String(i + 1));
        const holder = document.createElement("ol");
        holder.innerHTML = html;
        const row = holder.firstElementChild;
        row.querySelectorAll("input[data-key]").forEach(function (input) {
          input.value = box[input.dataset.key] === undefined ? "" : box[input.dataset.key];
          input.addEventListener("input", function () {
            const key = input.dataset.key;
            boxes[i][key] = key === "label" ? input.value : input.value === "" ? "" : Number(input.value);
            selected = i;
            draw();
          });
          input.addEventListener("focus", function () { selected = i; draw(); });
        });
        const remove = row.querySelector(".delete-box");
        remove.hidden = false;
        remove.addEventListener("click", function () {
          removeBox(i);
          const next = list.querySelector(".box-row input") || root.querySelector(".add-box");
          next.focus();
        });
        row.querySelectorAll("[data-error-for]").forEach(function (slot) {
          const message = serverErrors[slot.dataset.errorFor];
          if (!message) return;
          slot.textContent = message;
          slot.hidden = false;
          const field = row.querySelector("[name='" + CSS.escape(slot.dataset.errorFor) + "']");
          if (field) {
            field.setAttribute("aria-invalid", "true");
            field.setAttribute("aria-describedby", slot.id);
          }
        });
        list.appendChild(row);
      });
      serverErrors = {};
    }

    function syncRow(i) {
      const row = list.querySelectorAll(".box-row")[i];
      if (!row) return;
      row.querySelectorAll("input[data-key]").forEach(function (input) {
        if (input !== document.activeElement) input.value = boxes[i][input.dataset.key] === undefined ? "" : boxes[i][input.dataset.key];
      });
    }

    /* The boxes on the image: a rectangle, a corner handle to resize it, its number and label. */
    function draw() {
      const handle = Math.round(20 * perPixel());
      const font = Math.round(15 * perPixel());
      svg.querySelectorAll(".box").forEach(function (g) { g.remove(); });
      boxes.forEach(function (box, i) {
        if (!KEYS.every(function (k) { return typeof box[k] === "number"; })) return;
        const g = document.createElementNS(SVG, "g");
        g.setAttribute("class", "box" + (i === selected ? " is-selected" : ""));
        g.dataset.index = i;
        const rect = document.createElementNS(SVG, "rect");
        attrs(rect, { x: box.x, y: box.y, width: Math.max(box.w, 0), height: Math.max(box.h, 0), class: "box-body" });
        const corner = document.createElementNS(SVG, "rect");
        attrs(corner, { x: box.x + box.w - handle / 2, y: box.y + box.h - handle / 2, width: handle, height: handle, class: "box-handle" });
        const text = document.createElementNS(SVG, "text");
        attrs(text, { x: box.x, y: box.y, dy: "-0.3em", "font-size": font });
        text.textContent = (i + 1) + (box.label ? " " + box.label : "");
        g.append(rect, corner, text);
        svg.appendChild(g);
      });
    }

    function attrs(el, values) {
      Object.keys(values).forEach(function (k) { el.setAttribute(k, values[k]); });
    }

    function say(message) { if (status) status.textContent = message; }
    function describe(i) {
      if (i < 0 || !boxes[i]) return status.dataset.none;
      const b = boxes[i];
      return status.dataset.announce.replace("{n}", i + 1).replace("{total}", boxes.length)
        .replace("{x}", b.x).replace("{y}", b.y).replace("{w}", b.w).replace("{h}", b.h)
        .replace("{label}", b.label || "");
    }

    function addBox(box) {
      boxes.push(box);
      selected = boxes.length - 1;
      renderRows();
      draw();
      say(describe(selected));
    }

    function removeBox(i) {
      boxes.splice(i, 1);
      selected = Math.min(i, boxes.length - 1);
      renderRows();
      draw();
      say(status.dataset.deleted + " " + describe(selected));
    }

    function clamp(v, low, high) { return Math.min(Math.max(v, low), high); }
    function fit(box) {
      box.w = clamp(box.w, 1, W);
      box.h = clamp(box.h, 1, H);
      box.x = clamp(box.x, 0, W - box.w);
      box.y = clamp(box.y, 0, H - box.h);
    }

    /* A pointer's place in the image's pixels. */
    function at(event) {
      const point = svg.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      const p = point.matrixTransform(svg.getScreenCTM().inverse());
      return { x: clamp(Math.round(p.x), 0, W), y: clamp(Math.round(p.y), 0, H) };
    }

    svg.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      event.preventDefault();
      svg.focus();
      const p = at(event);
      const hit = event.target.closest(".box");
      if (hit) {
        const i = Number(hit.dataset.index);
        selected = i;
        const mode = event.target.classList.contains("box-handle") ? "resize" : "move";
        drag = { mode: mode, i: i, from: p, start: Object.assign({}, boxes[i]) };
      } else {
        boxes.push({ x: p.x, y: p.y, w: 0, h: 0, label: "" });
        selected = boxes.length - 1;
        drag = { mode: "draw", i: selected, from: p };
      }
      svg.setPointerCapture(event.pointerId);
      draw();
    });

    svg.addEventListener("pointermove", function (event) {
      if (!drag) return;
      const p = at(event);
      const box = boxes[drag.i];
      if (drag.mode === "draw") {
        box.x = Math.min(p.x, drag.from.x);
        box.y = Math.min(p.y, drag.from.y);
        box.w = Math.abs(p.x - drag.from.x);
        box.h = Math.abs(p.y - drag.from.y);
      } else if (drag.mode === "move") {
        box.x = clamp(drag.start.x + p.x - drag.from.x, 0, W - box.w);
        box.y = clamp(drag.start.y + p.y - drag.from.y, 0, H - box.h);
      } else {
        box.w = clamp(drag.start.w + p.x - drag.from.x, 1, W - box.x);
        box.h = clamp(drag.start.h + p.y - drag.from.y, 1, H - box.y);
      }
      draw();
      syncRow(drag.i);
    });

    function finish() {
      if (!drag) return;
      const done = drag;
      drag = null;
      if (done.mode === "draw") {
        const box = boxes.pop();
        if (box.w >= 2 && box.h >= 2) addBox(box);
        else { selected = boxes.length - 1; draw(); }
      } else {
        syncRow(done.i);
        say(describe(done.i));
      }
    }
    svg.addEventListener("pointerup", finish);
    svg.addEventListener("pointercancel", finish);

    svg.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey) return;
      const key = event.key;
      const box = boxes[selected];
      let handled = true;
      if (key === "n" || key === "N") {
        const w = Math.round(W / 4), h = Math.round(H / 4);
        addBox({ x: Math.round((W - w) / 2), y: Math.round((H - h) / 2), w: w, h: h, label: "" });
      } else if ((key === "]" || key === "[") && boxes.length) {
        selected = (selected + (key === "]" ? 1 : boxes.length - 1)) % boxes.length;
        draw();
        say(describe(selected));
      } else if (key.startsWith("Arrow") && box) {
        const step = event.altKey ? 1 : 10;
        const dx = key === "ArrowRight" ? step : key === "ArrowLeft" ? -step : 0;
        const dy = key === "ArrowDown" ? step : key === "ArrowUp" ? -step : 0;
        if (event.shiftKey) { box.w += dx; box.h += dy; } else { box.x += dx; box.y += dy; }
        fit(box);
        draw();
        syncRow(selected);
        say(describe(selected));
      } else if ((key === "l" || key === "L") && box) {
        list.querySelectorAll(".box-row")[selected].querySelector("input[data-key=label]").focus();
      } else if ((key === "Delete" || key === "Backspace") && box) {
        removeBox(selected);
      } else if (key === "Escape") {
        selected = -1;
        draw();
        say(describe(selected));
      } else {
        handled = false;
      }
      if (handled) event.preventDefault();
    });

    root.querySelector(".add-box").addEventListener("click", function () {
      const w = Math.round(W / 4), h = Math.round(H / 4);
      addBox({ x: Math.round((W - w) / 2), y: Math.round((H - h) / 2), w: w, h: h, label: "" });
      list.querySelectorAll(".box-row")[selected].querySelector("input").focus();
    });
    root.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
    root.querySelectorAll(".no-js-hint").forEach(function (el) { el.hidden = true; });
    root.classList.add("is-live");
    window.addEventListener("resize", draw);
    renderRows();
    draw();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".bbox:not(.is-readonly)").forEach(start);
  });
})();
