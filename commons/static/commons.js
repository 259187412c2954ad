/* commons — progressive enhancement only: every page works without this file.
   Plain JavaScript, no library, no eval, no inline handlers (strict CSP).
   1. Markdown toolbar above the editor's #body (labels come translated from
      the server in <template id="md-toolbar-template">).
   2. Live preview of the editor, debounced, POSTed to the preview endpoint.
   3. A warning before leaving the editor with unsaved changes.
   4. Confirmation for forms marked with data-confirm.
   5. The search filters, folded for phones, open on wide screens. */
(function () {
  "use strict";

  var PREVIEW_DELAY = 500;
  var STORAGE_KEY = "commons.livePreview";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* ---------- Confirmation of destructive POST forms ---------- */

  function initConfirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var message = form && form.getAttribute && form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) {
        event.preventDefault();
      }
    });
    // Buttons outside their form (form="...") submit the form too; the
    // submit event above covers them as well.
  }

  /* ---------- Text editing helpers ---------- */

  // Replace the textarea's selection with `text`, keeping the browser's undo
  // history where possible, then select [selStart, selEnd) within the insert.
  function replaceSelection(textarea, text, selStart, selEnd) {
    var start = textarea.selectionStart;
    var end = textarea.selectionEnd;
    textarea.focus();
    var done = false;
    try {
      // execCommand keeps undo/redo working in the textarea.
      done = document.execCommand && document.execCommand("insertText", false, text);
    } catch (e) {
      done = false;
    }
    if (!done || textarea.value.slice(start, start + text.length) !== text) {
      if (typeof textarea.setRangeText === "function") {
        textarea.setSelectionRange(start, end);
        textarea.setRangeText(text, start, end, "end");
      } else {
        textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
      }
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    var from = start + (selStart === undefined ? text.length : selStart);
    var to = start + (selEnd === undefined ? text.length : selEnd);
    textarea.setSelectionRange(from, to);
  }

  // Extend the selection to whole lines and return them.
  function selectLines(textarea) {
    var value = textarea.value;
    var start = value.lastIndexOf("\n", textarea.selectionStart - 1) + 1;
    var end = textarea.selectionEnd;
    if (end > start && value.charAt(end - 1) === "\n") {
      end -= 1;
    }
    var lineEnd = value.indexOf("\n", end);
    if (lineEnd === -1) {
      lineEnd = value.length;
    }
    textarea.setSelectionRange(start, lineEnd);
    return value.slice(start, lineEnd);
  }

  function wrap(textarea, before, after, placeholder) {
    var selected = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd);
    var inner = selected || placeholder;
    replaceSelection(
      textarea,
      before + inner + after,
      before.length,
      before.length + inner.length
    );
  }

  function prefixLines(textarea, prefix, placeholder, numbered) {
    var lines = selectLines(textarea);
    var result;
    if (!lines.trim()) {
      result = prefix + placeholder;
      replaceSelection(textarea, result, prefix.length, result.length);
      return;
    }
    result = lines
      .split("\n")
      .map(function (line, index) {
        if (!line.trim()) {
          return line;
        }
        if (line.indexOf(prefix) === 0) {
          return line.slice(prefix.length); // toggle off
        }
        return (numbered ? index + 1 + ". " : prefix) + line;
      })
      .join("\n");
    replaceSelection(textarea, result, 0, result.length);
  }

  // Make sure a block starts on its own line, with a blank line before it.
  function blockPrefix(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    if (!before) {
      return "";
    }
    if (/\n\n$/.test(before)) {
      return "";
    }
    return /\n$/.test(before) ? "\n" : "\n\n";
  }

  var ACTIONS = {
    bold: function (textarea, button) {
      wrap(textarea, "**", "**", button.getAttribute("data-placeholder") || "");
    },
    italic: function (textarea, button) {
      wrap(textarea, "*", "*", button.getAttribute("data-placeholder") || "");
    },
    heading: function (textarea, button) {
      prefixLines(textarea, "## ", button.getAttribute("data-placeholder") || "");
    },
    link: function (textarea, button) {
      var selected = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd);
      var label = selected || button.getAttribute("data-placeholder") || "";
      var url = "https://";
      if (/^https?:\/\/\S+$/.test(selected)) {
        url = selected;
        label = button.getAttribute("data-placeholder") || "";
        var text = "[" + label + "](" + url + ")";
        replaceSelection(textarea, text, 1, 1 + label.length);
        return;
      }
      var markup = "[" + label + "](" + url + ")";
      var urlStart = label.length + 3;
      replaceSelection(textarea, markup, urlStart, urlStart + url.length);
    },
    wikilink: function (textarea, button) {
      wrap(textarea, "[[", "]]", button.getAttribute("data-placeholder") || "");
    },
    list: function (textarea, button) {
      prefixLines(textarea, "- ", button.getAttribute("data-placeholder") || "");
    },
    tasklist: function (textarea, button) {
      prefixLines(textarea, "- [ ] ", button.getAttribute("data-placeholder") || "");
    },
    table: function (textarea, button) {
      var column = button.getAttribute("data-placeholder") || "Column";
      var cell = button.getAttribute("data-cell") || "Cell";
      var head = "| " + column + " 1 | " + column + " 2 |";
      var table =
        head + "\n| --- | --- |\n| " + cell + " | " + cell + " |\n| " + cell + " | " + cell + " |\n";
      var prefix = blockPrefix(textarea);
      textarea.setSelectionRange(textarea.selectionEnd, textarea.selectionEnd);
      replaceSelection(
        textarea,
        prefix + table,
        prefix.length + 2,
        prefix.length + 2 + column.length + 2
      );
    },
    code: function (textarea, button) {
      var selected = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd);
      if (selected.indexOf("\n") !== -1) {
        var prefix = blockPrefix(textarea);
        var block = prefix + "```\n" + selected.replace(/\n$/, "") + "\n```\n";
        replaceSelection(textarea, block, prefix.length + 4, block.length - 5);
      } else {
        wrap(textarea, "`", "`", button.getAttribute("data-placeholder") || "");
      }
    }
  };

  /* ---------- 1. Markdown toolbar ---------- */

  function initToolbar(textarea) {
    var template = document.getElementById("md-toolbar-template");
    if (!template || !("content" in template)) {
      return;
    }
    var toolbar = template.content.firstElementChild.cloneNode(true);
    var buttons = Array.prototype.slice.call(toolbar.querySelectorAll("button[data-md]"));
    if (!buttons.length) {
      return;
    }
    textarea.parentNode.insertBefore(toolbar, textarea);

    // A toolbar is one tab stop; arrow keys move between its buttons.
    buttons.forEach(function (button, index) {
      button.tabIndex = index === 0 ? 0 : -1;
    });

    function focusButton(index) {
      var next = (index + buttons.length) % buttons.length;
      buttons.forEach(function (button, i) {
        button.tabIndex = i === next ? 0 : -1;
      });
      buttons[next].focus();
    }

    toolbar.addEventListener("keydown", function (event) {
      var index = buttons.indexOf(document.activeElement);
      if (index === -1) {
        return;
      }
      if (event.key === "ArrowRight" || event.key === "ArrowDown") {
        focusButton(index + 1);
      } else if (event.key === "ArrowLeft" || event.key === "ArrowUp") {
        focusButton(index - 1);
      } else if (event.key === "Home") {
        focusButton(0);
      } else if (event.key === "End") {
        focusButton(buttons.length - 1);
      } else {
        return;
      }
      event.preventDefault();
    });

    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-md]") : null;
      if (!button) {
        return;
      }
      var action = ACTIONS[button.getAttribute("data-md")];
      if (action) {
        event.preventDefault();
        action(textarea, button);
      }
    });

    // Ctrl/Cmd+B and Ctrl/Cmd+I in the text.
    textarea.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) {
        return;
      }
      var key = event.key.toLowerCase();
      var name = key === "b" ? "bold" : key === "i" ? "italic" : null;
      if (!name) {
        return;
      }
      var button = toolbar.querySelector('button[data-md="' + name + '"]');
      event.preventDefault();
      ACTIONS[name](textarea, button);
    });
  }

  /* ---------- 2. Live preview ---------- */

  function initLivePreview(form, textarea) {
    var wrapper = document.getElementById("live-preview-wrap");
    var output = document.getElementById("live-preview");
    if (!wrapper || !output || !window.fetch || !window.FormData) {
      return;
    }
    var url = wrapper.getAttribute("data-preview-url");
    if (!url) {
      return;
    }
    var heading = wrapper.querySelector("h2");
    var status = document.createElement("p");
    status.className = "live-preview-status";
    wrapper.insertBefore(status, output);

    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "button-small";
    toggle.setAttribute("aria-controls", "live-preview");
    if (heading) {
      heading.appendChild(toggle);
    }

    var timer = null;
    var controller = null;
    var sequence = 0;
    var lastSent = null;
    var quietRender = false;
    var enabled = true;
    try {
      enabled = window.localStorage.getItem(STORAGE_KEY) !== "off";
    } catch (e) {
      enabled = true;
    }

    function setEnabled(value) {
      enabled = value;
      toggle.textContent = wrapper.getAttribute(value ? "data-label-hide" : "data-label-show");
      toggle.setAttribute("aria-expanded", value ? "true" : "false");
      if (value) {
        wrapper.removeAttribute("data-collapsed");
        form.classList.add("with-live-preview");
        // Silent for the first render (the whole page), polite for later updates.
        output.setAttribute("aria-live", "off");
        quietRender = true;
        lastSent = null;
        schedule(0);
      } else {
        wrapper.setAttribute("data-collapsed", "");
        form.classList.remove("with-live-preview");
        output.setAttribute("aria-live", "off");
        status.textContent = "";
        if (controller) {
          controller.abort();
        }
      }
      try {
        window.localStorage.setItem(STORAGE_KEY, value ? "on" : "off");
      } catch (e) {
        /* private mode: the choice just is not remembered */
      }
    }

    function render(html) {
      var parsed = new DOMParser().parseFromString(html, "text/html");
      var nodes = Array.prototype.slice.call(parsed.body.childNodes).map(function (node) {
        return document.importNode(node, true);
      });
      // The HTML was sanitised by the server (same pipeline as page views);
      // DOMParser never runs scripts, and the CSP forbids inline ones anyway.
      if (output.replaceChildren) {
        output.replaceChildren.apply(output, nodes);
      } else {
        output.innerHTML = "";
        nodes.forEach(function (node) {
          output.appendChild(node);
        });
      }
    }

    function update() {
      timer = null;
      if (!enabled) {
        return;
      }
      var body = textarea.value;
      if (body === lastSent) {
        return;
      }
      lastSent = body;
      if (controller) {
        controller.abort();
      }
      controller = window.AbortController ? new AbortController() : null;
      var mine = ++sequence;
      var data = new FormData();
      data.append("body", body);
      data.append("csrf_token", csrfToken());
      status.textContent = wrapper.getAttribute("data-label-loading") || "";
      output.setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          if (mine !== sequence) {
            return;
          }
          render(html);
          status.textContent = "";
          output.removeAttribute("aria-busy");
          if (quietRender) {
            quietRender = false;
            output.setAttribute("aria-live", "polite");
          }
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") {
            return;
          }
          if (mine === sequence) {
            lastSent = null;
            status.textContent = wrapper.getAttribute("data-label-error") || "";
            output.removeAttribute("aria-busy");
          }
        });
    }

    function schedule(delay) {
      if (timer) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(update, delay === undefined ? PREVIEW_DELAY : delay);
    }

    toggle.addEventListener("click", function () {
      setEnabled(!enabled);
    });
    textarea.addEventListener("input", function () {
      if (enabled) {
        schedule();
      }
    });

    wrapper.hidden = false;
    setEnabled(enabled);
  }

  /* ---------- 3. Unsaved changes warning ---------- */

  function initUnsavedWarning(form) {
    // After a preview, a conflict or an error, the text in the form is not saved yet.
    var dirty = !!document.querySelector("#preview, #conflict, #form-error");
    var submitting = false;
    form.addEventListener("input", function () {
      dirty = true;
    });
    form.addEventListener("change", function () {
      dirty = true;
    });
    form.addEventListener("submit", function () {
      submitting = true;
    });
    window.addEventListener("pageshow", function () {
      submitting = false; // back/forward cache: the form is on screen again
    });
    window.addEventListener("beforeunload", function (event) {
      if (!dirty || submitting) {
        return undefined;
      }
      var notice = document.getElementById("unsaved-warning");
      var message = (notice && notice.getAttribute("data-message")) || "";
      event.preventDefault();
      event.returnValue = message; // required by some browsers; the text is not shown
      return message;
    });
  }

  /* ---------- Search filters ---------- */

  // The filters follow the results and stay folded on phones; wide screens
  // show them beside the results, so they open there.
  function initFacetsFold() {
    var wide = window.matchMedia("(min-width: 60rem)");
    var folds = document.querySelectorAll("details.facets-fold");
    function follow() {
      for (var i = 0; i < folds.length; i++) {
        folds[i].open = wide.matches;
      }
    }
    if (folds.length) {
      follow();
      wide.addEventListener("change", follow);
    }
  }

  /* ---------- Start ---------- */

  function init() {
    initConfirmations();
    initFacetsFold();
    var form = document.querySelector("form[data-editor]");
    var textarea = document.getElementById("body");
    if (form && textarea && textarea.tagName === "TEXTAREA") {
      initToolbar(textarea);
      initLivePreview(form, textarea);
      initUnsavedWarning(form);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
