// viewtrail dashboard: the search box (Ctrl-K / Cmd-K), copy-link buttons and "select all" in tables.
// Every page works without this script; it only adds shortcuts.
(function () {
  "use strict";
  const box = document.getElementById("search");
  const list = document.getElementById("search-results");
  let timer = null;
  let active = -1;

  function render(results) {
    list.replaceChildren();
    active = -1;
    for (const r of results) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = r.href;
      a.textContent = r.title + " — " + r.kind + ", " + r.detail;
      li.appendChild(a);
      list.appendChild(li);
    }
    list.hidden = results.length === 0;
  }

  function move(step) {
    const links = list.querySelectorAll("a");
    if (!links.length) return;
    if (active >= 0) links[active].classList.remove("active");
    active = (active + step + links.length) % links.length;
    links[active].classList.add("active");
  }

  if (box && list) {
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        box.focus();
        box.select();
      } else if (event.key === "Escape" && document.activeElement === box) {
        list.hidden = true;
        box.blur();
      }
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.href = list.querySelectorAll("a")[active].href;
      }
    });
    box.addEventListener("input", function () {
      clearTimeout(timer);
      const text = box.value.trim();
      if (!text) { render([]); return; }
      timer = setTimeout(function () {
        fetch("/search?q=" + encodeURIComponent(text), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (body) { render(body.results || []); })
          .catch(function () { render([]); });
      }, 150);
    });
  }

  for (const button of document.querySelectorAll(".copy-link")) {
    button.addEventListener("click", function () {
      const text = button.dataset.copy === "location" ? window.location.href : button.dataset.copy;
      navigator.clipboard.writeText(text).then(function () {
        const before = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = before; }, 1500);
      });
    });
  }

  for (const all of document.querySelectorAll("input.all")) {
    all.addEventListener("change", function () {
      for (const box of all.closest("table").querySelectorAll("tbody input[type=checkbox]")) box.checked = all.checked;
    });
  }
})();
