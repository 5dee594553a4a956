// Names for the admin's unlabelled controls, which axe-core reports on Django's own widgets:
// - tabular inline cells (the column header is their only label),
// - the date and time halves of a split date-time field,
// - select2 autocompletes (their name pointed only at the selected text, empty when nothing is chosen),
// - the filter widget's search icon (aria-label on a plain span).
// A file rather than inline script: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  function labelText(control) {
    if (!control.id) return "";
    const label = document.querySelector('label[for="' + control.id + '"]');
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }

  function nameInlineCells(root) {
    root.querySelectorAll("div.tabular table").forEach(function (table) {
      const headers = Array.from(table.querySelectorAll("thead th")).map(function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody tr.form-row").forEach(function (row, index) {
        Array.from(row.children).forEach(function (cell) {
          const column = headers[cell.cellIndex] || "";
          cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (control) {
            if (control.hasAttribute("aria-label") || labelText(control)) return;
            const what = control.name && control.name.endsWith("-DELETE") ? "Delete" : column;
            if (what) control.setAttribute("aria-label", what + ", row " + (index + 1));
          });
        });
      });
    });
  }

  function nameSplitDateTimes(root) {
    root.querySelectorAll("p.datetime").forEach(function (group) {
      const row = group.closest(".form-row");
      const label = row && row.querySelector("label");
      const field = label ? label.textContent.replace(/:\s*$/, "").trim() : "";
      group.querySelectorAll("input").forEach(function (input) {
        if (!input.hasAttribute("aria-label")) {
          input.setAttribute("aria-label", field + (/_1$/.test(input.id) ? ", time" : ", date"));
        }
      });
    });
  }

  function nameAutocompletes(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      const label = select.id && document.querySelector('label[for="' + select.id + '"]');
      const container = select.nextElementSibling;
      if (!label || !container || !container.classList.contains("select2")) return;
      if (!label.id) label.id = select.id + "-label";
      const name = labelText(select);
      container.querySelectorAll('[role="combobox"]').forEach(function (box) {
        const shown = box.querySelector("span.select2-selection__rendered");
        if (shown && shown.id) {
          // The shown choice is what the combobox is named after; say the field and the choice together.
          const chosen = shown.getAttribute("title") || "";
          const text = name + ": " + (chosen || "nothing chosen");
          if (shown.getAttribute("aria-label") !== text) shown.setAttribute("aria-label", text);
          box.setAttribute("aria-labelledby", shown.id);
        } else {
          box.setAttribute("aria-labelledby", label.id);
        }
      });
      container.querySelectorAll(".select2-search__field").forEach(function (search) {
        search.setAttribute("aria-label", name + ", search");
      });
      // The chosen items of a multiple select are a list whose search box sits among them.
      container.querySelectorAll("ul.select2-selection__rendered").forEach(function (list) {
        list.setAttribute("role", "none");
        list.querySelectorAll(":scope > li").forEach(function (item) {
          item.setAttribute("role", "none");
        });
      });
    });
  }

  function nameIcons(root) {
    root.querySelectorAll("span.help-tooltip[aria-label], span.search-label-icon[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  function nameAll() {
    nameInlineCells(document);
    nameSplitDateTimes(document);
    nameAutocompletes(document);
    nameIcons(document);
  }

  // After the admin's own scripts (select2, the filter widget, inlines) have built their controls, and again
  // whenever they rebuild them (a row added, an item chosen).
  window.addEventListener("load", function () {
    nameAll();
    let pending = false;
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        nameAll();
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
