/* commons — completion as you type; progressive enhancement (every field works without it).
   Plain JavaScript, no library; suggestions come from GET /api/v1/suggest.
   1. Search boxes: page titles first, then tags; choosing one opens it.
   2. The editor's tag field: tags in use, completing the tag being typed.
   3. The editor's text: page titles after "[[", inserted as "Title]]".
   The list follows the ARIA combobox pattern: arrows move, Enter chooses, Escape closes. */
(function () {
  "use strict";

  var DELAY = 150;
  var counter = 0;

  function labels() {
    var template = document.getElementById("suggest-labels");
    return template ? template.dataset : {};
  }

  function fetchSuggestions(text, type, done) {
    var url = "/api/v1/suggest?type=" + type + "&q=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { titles: [], tags: [] };
      })
      .then(done)
      .catch(function () {
        done({ titles: [], tags: [] });
      });
  }

  // A listbox under `field`. `source(done)` gives the items for the field's current
  // state, or null when nothing should be suggested; `choose(item)` acts on a choice.
  function Suggester(field, source, choose) {
    var self = this;
    counter += 1;
    this.field = field;
    this.choose = choose;
    this.items = [];
    this.active = -1;
    this.list = document.createElement("ul");
    this.list.id = "suggestions-" + counter;
    this.list.className = "suggestions";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", labels().label || "");
    this.list.hidden = true;
    var holder = document.createElement("div");
    holder.className = "suggest-holder";
    holder.appendChild(this.list);
    // Under the search row (input and button side by side) or under the field itself.
    var anchor = field.closest(".search-row") || field;
    anchor.parentNode.insertBefore(holder, anchor.nextSibling);
    // A textarea may not be a combobox: it keeps its role and points at the list.
    this.combobox = field.tagName !== "TEXTAREA";
    if (this.combobox) {
      field.setAttribute("role", "combobox");
      field.setAttribute("aria-autocomplete", "list");
      field.setAttribute("aria-expanded", "false");
    }
    field.setAttribute("aria-controls", this.list.id);

    var timer = null;
    var asked = 0;
    field.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        asked += 1;
        var question = asked;
        var pending = source(function (items) {
          if (question === asked) {
            self.show(items);
          }
        });
        if (pending === null) {
          self.close();
        }
      }, DELAY);
    });
    field.addEventListener("keydown", function (event) {
      self.key(event);
    });
    field.addEventListener("blur", function () {
      window.setTimeout(function () {
        self.close();
      }, 150);
    });
    this.list.addEventListener("mousedown", function (event) {
      event.preventDefault(); // keep the focus (and the caret) in the field
    });
    this.list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        self.pick(Number(option.dataset.index));
      }
    });
  }

  Suggester.prototype.show = function (items) {
    this.items = items;
    this.active = -1;
    this.list.textContent = "";
    var group = null;
    for (var i = 0; i < items.length; i++) {
      if (items[i].group !== group) {
        group = items[i].group;
        var heading = document.createElement("li");
        heading.className = "suggestions-group";
        heading.setAttribute("role", "presentation");
        heading.textContent = group;
        this.list.appendChild(heading);
      }
      var option = document.createElement("li");
      option.id = this.list.id + "-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.index = String(i);
      option.textContent = items[i].label;
      this.list.appendChild(option);
    }
    var open = items.length > 0;
    this.list.hidden = !open;
    if (this.combobox) {
      this.field.setAttribute("aria-expanded", open ? "true" : "false");
    }
    this.field.removeAttribute("aria-activedescendant");
  };

  Suggester.prototype.close = function () {
    this.show([]);
  };

  Suggester.prototype.move = function (step) {
    var count = this.items.length;
    var previous = document.getElementById(this.list.id + "-" + this.active);
    if (previous) {
      previous.setAttribute("aria-selected", "false");
    }
    // -1 is the field itself: moving past either end comes back to it.
    this.active += step;
    if (this.active >= count) {
      this.active = -1;
    } else if (this.active < -1) {
      this.active = count - 1;
    }
    var option = document.getElementById(this.list.id + "-" + this.active);
    if (option) {
      option.setAttribute("aria-selected", "true");
      option.scrollIntoView({ block: "nearest" });
      this.field.setAttribute("aria-activedescendant", option.id);
    } else {
      this.field.removeAttribute("aria-activedescendant");
    }
  };

  Suggester.prototype.key = function (event) {
    if (this.list.hidden) {
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      this.move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && this.active >= 0) {
      event.preventDefault();
      this.pick(this.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.close();
    }
  };

  Suggester.prototype.pick = function (index) {
    var item = this.items[index];
    this.close();
    if (item) {
      this.choose(item);
    }
  };

  function titleItems(data) {
    return data.titles.map(function (page) {
      return { group: labels().pages, label: page.title, value: page.title, url: page.url };
    });
  }

  function tagItems(data) {
    return data.tags.map(function (tag) {
      return { group: labels().tags, label: "#" + tag, value: tag, url: "/tag/" + encodeURIComponent(tag) };
    });
  }

  /* ---------- 1. Search boxes ---------- */

  function initSearchBox(field) {
    new Suggester(
      field,
      function (done) {
        var text = field.value.trim();
        if (text.length < 2) {
          return null;
        }
        fetchSuggestions(text, "all", function (data) {
          done(titleItems(data).concat(tagItems(data)));
        });
        return true;
      },
      function (item) {
        window.location.href = item.url;
      }
    );
  }

  /* ---------- 2. The tag field ---------- */

  function initTagField(field) {
    function current() {
      var parts = field.value.split(",");
      return parts[parts.length - 1].trim();
    }
    new Suggester(
      field,
      function (done) {
        var text = current();
        if (!text) {
          return null;
        }
        fetchSuggestions(text, "tags", function (data) {
          done(tagItems(data));
        });
        return true;
      },
      function (item) {
        var parts = field.value.split(",");
        parts[parts.length - 1] = (parts.length > 1 ? " " : "") + item.value;
        field.value = parts.join(",") + ", ";
        field.focus();
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
    );
  }

  /* ---------- 3. Links in the editor ---------- */

  // The text typed since an unclosed "[[" on the caret's line, or null.
  function openLink(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var start = before.lastIndexOf("[[");
    if (start < 0) {
      return null;
    }
    var typed = before.slice(start + 2);
    return /[\]\n|]/.test(typed) ? null : { start: start + 2, text: typed };
  }

  function initLinkCompletion(textarea) {
    new Suggester(
      textarea,
      function (done) {
        var link = openLink(textarea);
        if (!link || !link.text.trim()) {
          return null;
        }
        fetchSuggestions(link.text, "titles", function (data) {
          done(titleItems(data));
        });
        return true;
      },
      function (item) {
        var link = openLink(textarea);
        if (!link) {
          return;
        }
        var end = textarea.selectionStart;
        var closing = textarea.value.slice(end, end + 2) === "]]" ? "" : "]]";
        textarea.focus();
        textarea.setSelectionRange(link.start, end);
        textarea.setRangeText(item.value + closing, link.start, end, "end");
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }
    );
  }

  function init() {
    if (!window.fetch) {
      return;
    }
    var boxes = document.querySelectorAll("form[role=search] input[name=q]");
    for (var i = 0; i < boxes.length; i++) {
      initSearchBox(boxes[i]);
    }
    var form = document.querySelector("form[data-editor]");
    if (form) {
      var tags = form.querySelector("input[name=tags]");
      var body = form.querySelector("textarea#body");
      if (tags) {
        initTagField(tags);
      }
      if (body) {
        initLinkCompletion(body);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
