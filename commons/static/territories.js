/* commons — completion of place names in the editor's sheet (progressive enhancement:
   without this file, names and INSEE codes typed by hand are understood all the same).
   Inputs marked data-complete="territory" hold places separated by commas; the last one
   is completed from /api/v1/territories into the input's <datalist>. */
(function () {
  "use strict";

  var DELAY = 200;

  function lastPart(value) {
    var cut = Math.max(value.lastIndexOf(","), value.lastIndexOf(";"));
    return { head: value.slice(0, cut + 1), tail: value.slice(cut + 1).trim() };
  }

  function complete(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) {
      return;
    }
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var parts = lastPart(input.value);
        if (parts.tail.length < 2 || parts.tail === asked) {
          return;
        }
        asked = parts.tail;
        var url = "/api/v1/territories?limit=8&q=" + encodeURIComponent(parts.tail);
        window.fetch(url, { headers: { Accept: "application/json" } })
          .then(function (answer) { return answer.ok ? answer.json() : { places: [] }; })
          .then(function (data) {
            list.textContent = "";
            var head = parts.head ? parts.head.replace(/\s*$/, " ") : "";
            data.places.forEach(function (place) {
              var option = document.createElement("option");
              option.value = head + place.label;
              list.appendChild(option);
            });
          })
          .catch(function () { list.textContent = ""; });
      }, DELAY);
    });
  }

  function init() {
    var inputs = document.querySelectorAll('input[data-complete="territory"]');
    Array.prototype.forEach.call(inputs, complete);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
