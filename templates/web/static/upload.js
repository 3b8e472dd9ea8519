// Upload with a progress bar; without this script the form posts as usual.
(function () {
  var form = document.getElementById("upload");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var box = document.getElementById("progress");
    var bar = box.querySelector("progress");
    var pct = box.querySelector(".pct");
    var stage = box.querySelector(".stage");
    var button = form.querySelector("button[type=submit]");
    box.hidden = false;
    button.disabled = true;
    stage.textContent = stage.dataset.uploading;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var p = Math.round(100 * e.loaded / e.total);
      bar.value = p;
      pct.textContent = p + " %";
      if (p >= 100) { stage.textContent = stage.dataset.checking; bar.removeAttribute("value"); }
    });
    xhr.addEventListener("load", function () {
      // the server answers with the submission's page (after its redirect) or an error page
      if (xhr.status < 400 && xhr.responseURL) { window.location.assign(xhr.responseURL); return; }
      document.open(); document.write(xhr.responseText); document.close();
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      stage.textContent = "Network error: the file was not sent. Try again.";
    });
    xhr.send(new FormData(form));
  });
})();
