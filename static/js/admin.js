// Committee pages: refuse an oversize image before it is sent, with the message next to the field.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file]")) return;
    var old = input.parentNode.querySelector(".error.client");
    if (old) old.remove();
    var file = input.files && input.files[0];
    var limit = Number(input.dataset.maxBytes) || 8 * 1024 * 1024;
    if (file && file.size > limit) {
      var p = document.createElement("p");
      p.className = "error client";
      p.setAttribute("role", "alert");
      p.textContent = input.dataset.tooBig || "图片太大（最大 8 MB），请换一张小一点的。";
      input.parentNode.appendChild(p);
      input.value = "";
    }
  });
})();
