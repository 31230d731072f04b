/* The complaint form: a live count beside each limited field, and photos refused before
   uploading when they are too big or too many. The form works without this file (the server
   checks everything again). */
(function () {
  function chars(s) { return Array.from(s).length; }  // 䶮, 𠮷 count as one
  document.querySelectorAll('.limit[data-for]').forEach(function (note) {
    var field = document.getElementById(note.getAttribute('data-for'));
    var max = +note.getAttribute('data-max');
    if (!field) return;
    var counter = document.createElement('span');
    counter.setAttribute('aria-live', 'polite');
    note.appendChild(document.createTextNode('，'));
    note.appendChild(counter);
    function update() {
      var n = chars(field.value);
      counter.textContent = '已写 ' + n + ' 字';
      note.classList.toggle('over', n > max);
    }
    field.addEventListener('input', update);
    update();
  });
  var input = document.getElementById('photos');
  if (!input) return;
  var form = input.form, alertBox = document.getElementById('photos-too-big');
  var maxBytes = +input.getAttribute('data-max-bytes'), maxFiles = +input.getAttribute('data-max-files');
  function problem() {
    var files = Array.from(input.files || []);
    if (files.length > maxFiles) return '最多上传 ' + maxFiles + ' 张照片，请重新选择。';
    var big = files.filter(function (f) { return f.size > maxBytes; });
    if (big.length) return '照片“' + big[0].name + '”有 ' + (big[0].size / 1048576).toFixed(1) +
      ' MB，超过 ' + maxBytes / 1048576 + ' MB，请换一张小一点的照片（或用手机截图）再上传。';
    return '';
  }
  function check() { var p = problem(); alertBox.textContent = p; alertBox.hidden = !p; return !p; }
  input.addEventListener('change', check);
  form.addEventListener('submit', function (e) { if (!check()) { e.preventDefault(); input.focus(); } });
})();
