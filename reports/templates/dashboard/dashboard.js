// The dashboard's little script: sort a table by a header's column, and send a filter form
// when a choice changes, so the URL always holds the view (and can be shared). No library.
"use strict";

document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});

document.querySelectorAll("table.sortable, .table-wrap table").forEach((table) => {
  const heads = table.querySelectorAll("thead th");
  heads.forEach((th, column) => {
    if (!th.dataset.sort && !th.classList.contains("num") && !th.textContent.trim()) return;
    th.setAttribute("aria-sort", "none");
    th.addEventListener("click", () => {
      const body = table.tBodies[0];
      const rows = Array.from(body.rows).filter((row) => row.cells.length === heads.length);
      if (rows.length < 2) return;
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      const key = (row) => {
        const cell = row.cells[column];
        const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
        const number = parseFloat(raw.replace(/[^0-9eE.+-]/g, ""));
        return th.classList.contains("num") || th.dataset.sort === "number"
          ? (Number.isNaN(number) ? -Infinity : number) : raw.toLowerCase();
      };
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
      });
      heads.forEach((other) => other.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      rows.forEach((row) => body.appendChild(row));
    });
  });
});
