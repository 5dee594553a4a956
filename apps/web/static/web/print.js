// Buttons marked data-print open the browser's print dialog. A file, not an onclick attribute: the
// Content-Security-Policy allows no inline script.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
