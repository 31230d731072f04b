/* 按离我最近排序: shown only where the browser can locate (JavaScript, geolocation, https);
   says why when it cannot. The page works fully without this file. */
(function () {
  var b = document.querySelector('.locate');
  if (!b || !navigator.geolocation || !window.isSecureContext) return;
  var msg = document.querySelector('.located');
  b.hidden = false;
  function say(text) { msg.textContent = text; msg.hidden = false; }
  b.addEventListener('click', function () {
    say('正在获取您的位置……');
    navigator.geolocation.getCurrentPosition(function (pos) {
      var f = b.form;
      ['lat', 'lng'].forEach(function (k) {
        var i = f.querySelector('input[name=' + k + ']');
        if (!i) { i = document.createElement('input'); i.type = 'hidden'; i.name = k; f.appendChild(i); }
        i.value = (k === 'lat' ? pos.coords.latitude : pos.coords.longitude).toFixed(5);
      });
      var s = f.querySelector('#sort');
      s.querySelector('option[value=distance]').disabled = false;
      s.value = 'distance';
      f.submit();
    }, function (err) {
      say(err.code === 1
        ? '您没有允许本网站使用位置信息，无法按距离排序。可以在浏览器设置中允许后再点一次，或用上面的“区县”“监管所”筛选附近的作坊。'
        : '暂时无法确定您的位置（信号弱或定位超时），请稍后再试，或用上面的“区县”“监管所”筛选附近的作坊。');
    }, { timeout: 15000, maximumAge: 300000 });
  });
})();
