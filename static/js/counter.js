// Character counters for fields with a maxlength (progressive: without JavaScript the page
// says "最多 N 字" and the server refuses longer text with a clear message).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".counter[data-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-for"));
    if (!field || !field.maxLength || field.maxLength < 0) return;
    var update = function () {
      var n = Array.from(field.value).length;
      counter.textContent = "已输入 " + n + " / " + field.maxLength + " 字";
      counter.classList.toggle("full", n >= field.maxLength);
    };
    field.addEventListener("input", update);
    update();
  });
});
