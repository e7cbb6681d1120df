// The review table's "tick all" box: shown only where this script runs (without it, each
// row is ticked by hand). It ticks or clears every row's box of its table.
document.addEventListener("DOMContentLoaded", () => {
  for (const all of document.querySelectorAll("input.tick-all")) {
    const boxes = () => all.closest("table").querySelectorAll("input.tick");
    if (boxes().length === 0) continue;
    all.hidden = false;
    all.addEventListener("change", () => {
      for (const box of boxes()) box.checked = all.checked;
    });
  }
});
