/* commons — pictures from the editor; progressive enhancement (the upload page works without it).
   A file dropped on the text, pasted into it, or picked with the button opens a small
   dialog (caption, authors, licence: the last two remembered in this browser), is sent
   to POST /api/v1/media, and its reference ![caption](media:name) goes in at the cursor. */
(function () {
  "use strict";

  var STORAGE_KEY = "commons.uploadDefaults";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function remembered() {
    try {
      return JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function remember(values) {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(values));
    } catch (e) {
      /* private browsing: nothing is remembered */
    }
  }

  function captionOf(file) {
    return (file.name || "").replace(/\.[^.]+$/, "").replace(/[-_]+/g, " ").trim();
  }

  // The reference goes in as a paragraph of its own.
  function insertAt(textarea, position, text) {
    var before = textarea.value.slice(0, position);
    var after = textarea.value.slice(position);
    var opening = !before || /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
    var closing = !after || /^\n/.test(after) ? "\n" : "\n\n";
    var spaced = opening + text + closing;
    textarea.focus();
    textarea.setRangeText(spaced, position, position, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function init() {
    var template = document.getElementById("upload-dialog-template");
    var textarea = document.querySelector("form[data-editor] textarea#body");
    if (!template || !textarea || !window.fetch || !window.FormData) {
      return;
    }
    var parts = template.content.cloneNode(true);
    var opener = parts.querySelector(".upload-open");
    var dialog = parts.querySelector("dialog");
    if (typeof dialog.showModal !== "function") {
      return;
    }
    var form = dialog.querySelector("form");
    var fileInput = dialog.querySelector("#upload-file");
    var caption = dialog.querySelector("#upload-caption");
    var authors = dialog.querySelector("#upload-authors");
    var license = dialog.querySelector("#upload-license");
    var error = dialog.querySelector(".upload-error");
    var submit = form.querySelector("button[type=submit]");
    var label = textarea.parentNode.querySelector("label[for=body]");
    textarea.parentNode.insertBefore(parts, label ? label.nextSibling : textarea);
    // The dialog lives outside the editor's form, so its fields are never saved with the page.
    document.body.appendChild(dialog);

    var position = 0;

    function open(file) {
      position = textarea.selectionStart;
      var defaults = remembered();
      authors.value = defaults.authors || "";
      if (defaults.license) {
        license.value = defaults.license;
      }
      error.hidden = true;
      fileInput.value = "";
      if (file) {
        var transfer = new DataTransfer();
        transfer.items.add(file);
        fileInput.files = transfer.files;
        caption.value = captionOf(file);
      } else {
        caption.value = "";
      }
      dialog.showModal();
      (file ? caption : fileInput).focus();
    }

    fileInput.addEventListener("change", function () {
      if (fileInput.files.length && !caption.value) {
        caption.value = captionOf(fileInput.files[0]);
      }
    });

    opener.addEventListener("click", function () {
      open(null);
    });
    dialog.querySelector(".upload-cancel").addEventListener("click", function () {
      dialog.close();
      textarea.focus();
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = fileInput.files[0];
      if (!file) {
        fileInput.focus();
        return;
      }
      var data = new FormData();
      data.append("file", file);
      data.append("authors", authors.value);
      data.append("license", license.value);
      data.append("title", caption.value);
      submit.disabled = true;
      fetch("/api/v1/media", {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (answer) {
          submit.disabled = false;
          if (!answer.ok) {
            error.textContent = (answer.body.error && answer.body.error.message) || "";
            error.hidden = false;
            return;
          }
          remember({ authors: authors.value, license: license.value });
          dialog.close();
          var text = caption.value.replace(/[\[\]]/g, "") || answer.body.name;
          insertAt(textarea, position, "![" + text + "](media:" + answer.body.name + ")");
        })
        .catch(function () {
          submit.disabled = false;
          error.textContent = error.getAttribute("data-offline") || "";
          error.hidden = false;
        });
    });

    function firstFile(list) {
      for (var i = 0; list && i < list.length; i++) {
        if (list[i].kind === undefined || list[i].kind === "file") {
          var file = list[i].getAsFile ? list[i].getAsFile() : list[i];
          if (file) {
            return file;
          }
        }
      }
      return null;
    }

    textarea.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
        event.preventDefault();
        textarea.classList.add("drop-target");
      }
    });
    textarea.addEventListener("dragleave", function () {
      textarea.classList.remove("drop-target");
    });
    textarea.addEventListener("drop", function (event) {
      textarea.classList.remove("drop-target");
      var file = event.dataTransfer && firstFile(event.dataTransfer.files);
      if (file) {
        event.preventDefault();
        open(file);
      }
    });
    textarea.addEventListener("paste", function (event) {
      var file = event.clipboardData && firstFile(event.clipboardData.items);
      if (file) {
        event.preventDefault();
        open(file);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
