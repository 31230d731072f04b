// /search: "near me" fills lat/lng from the browser and sorts by distance (optional; the
// page works without it).
(function(){var b=document.querySelector('.locate');if(!b||!navigator.geolocation)return;b.hidden=false;
b.addEventListener('click',function(){navigator.geolocation.getCurrentPosition(function(pos){var f=b.form;
['lat','lng'].forEach(function(k){var i=f.querySelector('input[name='+k+']');if(!i){i=document.createElement('input');i.type='hidden';i.name=k;f.appendChild(i);}
i.value=(k==='lat'?pos.coords.latitude:pos.coords.longitude).toFixed(5);});
var s=f.querySelector('#sort');s.querySelector('option[value=distance]').disabled=false;s.value='distance';f.submit();});});})();
