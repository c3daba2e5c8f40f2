/* The report page's print button (kept out of the HTML: the pages allow no inline script). */
"use strict";
document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
